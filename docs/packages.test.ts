// What a newcomer reads outside the guides: every publishable package has a README that ships in
// its tarball, and the READMEs and guides link only to files inside this repository.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

async function publishable(): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(repoRoot, "packages"))).sort()) {
    const manifest = join(repoRoot, "packages", name, "package.json");
    if (!existsSync(manifest)) continue;
    if (!JSON.parse(await readFile(manifest, "utf8")).private) out.push(name);
  }
  return out;
}

async function markdownFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await markdownFiles(path)));
    else if (entry.name.endsWith(".md")) out.push(path);
  }
  return out;
}

/** Relative link targets of a Markdown text (`[text](target)`), without anchors. */
function relativeLinks(markdown: string): string[] {
  const targets: string[] = [];
  for (const match of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1].split("#")[0];
    if (target === "" || /^[a-z]+:/i.test(target)) continue;
    targets.push(target);
  }
  return targets;
}

describe("package READMEs", () => {
  it("every publishable package has a README in its tarball", async () => {
    const names = await publishable();
    expect(names).toEqual(expect.arrayContaining(["core", "serve", "train"]));
    for (const name of names) {
      const { stdout } = await run(
        "npm",
        ["pack", "--dry-run", "--json", "--ignore-scripts", "--workspace", `packages/${name}`],
        { cwd: repoRoot, env: { ...process.env, npm_config_offline: "true" } },
      );
      const files = JSON.parse(stdout)[0].files.map((file: { path: string }) => file.path);
      expect(files, `@mlops/${name}'s tarball`).toContain("README.md");
      const readme = await readFile(join(repoRoot, "packages", name, "README.md"), "utf8");
      expect(readme.startsWith(`# @mlops/${name}\n`), `packages/${name}/README.md title`).toBe(
        true,
      );
    }
  }, 120_000);
});

describe("links", () => {
  it("the README, the guides and the package READMEs point only inside the repository", async () => {
    const files = [
      join(repoRoot, "README.md"),
      ...(await markdownFiles(join(repoRoot, "docs"))),
      ...(await publishable()).map((name) => join(repoRoot, "packages", name, "README.md")),
    ];
    const broken: string[] = [];
    for (const file of files) {
      for (const target of relativeLinks(await readFile(file, "utf8"))) {
        const path = resolve(dirname(file), target);
        const inside = !relative(repoRoot, path).startsWith("..");
        if (!inside || !existsSync(path)) {
          broken.push(`${relative(repoRoot, file)} → ${target}${inside ? "" : " (outside)"}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
