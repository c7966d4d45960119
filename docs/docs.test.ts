// Runs every ```ts block of every guide, so the docs cannot drift from the code.
// A block marked ```ts no-run is shown but not run (say why next to it in the guide).
// Blocks run in order within a page, each as its own module, in a temporary working directory
// that holds the fixtures the guides use (wine.csv).
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, it } from "vitest";

const docsDir = dirname(fileURLToPath(import.meta.url));
const runDir = join(docsDir, ".docs-run");

async function pages(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await pages(path)));
    else if (entry.name.endsWith(".md")) out.push(path);
  }
  return out.sort();
}

function blocks(markdown: string): { code: string; line: number }[] {
  const out: { code: string; line: number }[] = [];
  const pattern = /^```ts\s*\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(pattern)) {
    const line = markdown.slice(0, match.index).split("\n").length;
    out.push({ code: match[1], line });
  }
  return out;
}

const all = await pages(docsDir);
let workDir = "";
const startDir = process.cwd();

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "mlops-docs-"));
  await copyFile(
    join(docsDir, "../examples/wine-quality/data/wine.csv"),
    join(workDir, "wine.csv"),
  );
  await mkdir(runDir, { recursive: true });
  process.chdir(workDir);
});

afterAll(async () => {
  process.chdir(startDir);
  await rm(workDir, { recursive: true, force: true });
  await rm(runDir, { recursive: true, force: true });
});

for (const page of all) {
  const name = relative(docsDir, page);
  const markdown = await readFile(page, "utf8");
  const found = blocks(markdown);
  if (found.length === 0) continue;
  describe(name, () => {
    for (const [index, block] of found.entries()) {
      it(`block ${index + 1} (line ${block.line})`, async () => {
        const file = join(runDir, `${name.replaceAll("/", "_")}-${index + 1}.ts`);
        await writeFile(file, `${block.code}\nexport {};\n`);
        await import(/* @vite-ignore */ `${file}?t=${Date.now()}`);
        // The first block of a page pays for transforming the sources it imports; on a loaded
        // machine that alone takes tens of seconds (a timeout is not an assertion).
      }, 180_000);
    }
  });
}
