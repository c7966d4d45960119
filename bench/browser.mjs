// Headless Debian Chromium for the UI benchmarks, launched as the tests launch it: playwright-core
// (no browser download), the flags of the handbook, a fresh profile folder removed on close.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../packages/ui/package.json", import.meta.url));

export const CHROMIUM = process.env.MLOPS_CHROMIUM ?? "/usr/bin/chromium";

/** A launched browser and `close()`, which also removes its profile folder. */
export async function launchChromium() {
  const { chromium } = require("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "mlops-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function loadText() {
  const { loadavg, cpus } = require("node:os");
  const [one, five] = loadavg();
  return `load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${cpus().length} cores`;
}
