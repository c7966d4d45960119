import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The browser files built into dist/assets (scripts/build-client.mjs). */
export type AssetName = "app.js" | "report.js" | "style.css";

/** This package's folder: the first one above this module holding its package.json. */
function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(folder, "package.json")) &&
      existsSync(join(folder, "scripts", "build-client.mjs"))
    )
      return folder;
    if (existsSync(join(folder, "package.json")) && existsSync(join(folder, "dist", "assets")))
      return folder;
    const parent = dirname(folder);
    if (parent === folder) throw new Error("@mlops/ui: cannot find the package folder");
    folder = parent;
  }
}

const cache = new Map<AssetName, string>();

/** The text of a built browser asset (read once). */
export function asset(name: AssetName): string {
  let text = cache.get(name);
  if (text === undefined) {
    const path = join(packageRoot(), "dist", "assets", name);
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(
        `@mlops/ui: ${path} is missing (${(error as NodeJS.ErrnoException).code}); build the ` +
          "package: npm run build --workspace @mlops/ui",
        { cause: error },
      );
    }
    cache.set(name, text);
  }
  return text;
}
