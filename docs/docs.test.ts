// Runs the code blocks of every guide, so the docs cannot drift from the code. How a block is
// marked, and what running it checks, is documented in docs/README.md ("How the guides are
// tested"); in short:
//   ```ts                      run as its own ES module
//   ```ts no-run               shown, not run (the guide says why next to it)
//   ```sh                      run with bash; `$ ` lines are commands, the lines under them
//                              their (illustrative) output; each command must exit 0, unless a
//                              `$ echo $?` follows it, whose shown value its exit code must equal
//   ```sh no-run: REASON       shown, not run; the reason is required and printed by the test
//   ```sh run-by: PATH         run by another test (PATH, which must name this page)
// Blocks run in page order (TypeScript and shell interleaved), each page in its own temporary
// working directory that holds the fixtures the guides use (wine.csv), with the repository's CLIs
// (mlops, mlops-train, mlops-serve, mlops-predict) on PATH and npm kept offline.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docsDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(docsDir, "..");
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

interface Block {
  language: "ts" | "sh";
  /** What follows the language on the fence line (`no-run: REASON`), trimmed. */
  info: string;
  code: string;
  line: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const pattern = /^```(ts|sh)([^\n]*)\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(pattern)) {
    const line = markdown.slice(0, match.index).split("\n").length;
    out.push({ language: match[1] as "ts" | "sh", info: match[2].trim(), code: match[3], line });
  }
  return out;
}

/** One `$ command` of a shell block and the exit code its page says it has. */
interface ShellStep {
  command: string;
  /** From a `$ echo $?` right after it; 0 otherwise. */
  exitCode: number;
}

/**
 * The commands of a shell block. With `$ ` prompts, each prompt line (and its `\` continuation
 * lines) is a command and the other lines are output, not run; `$ echo $?` sets the expected
 * exit code of the command before it. Without prompts, the whole block is one script.
 */
function shellSteps(code: string): ShellStep[] {
  const lines = code.replace(/\n$/, "").split("\n");
  if (!lines.some((line) => line.startsWith("$ "))) return [{ command: code, exitCode: 0 }];
  const steps: ShellStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("$ ")) continue;
    let command = lines[i].slice(2);
    while (command.endsWith("\\") && i + 1 < lines.length) command += `\n${lines[++i]}`;
    if (command.trim() === "echo $?") {
      const shown = lines[i + 1]?.trim() ?? "";
      if (steps.length === 0 || !/^\d+$/.test(shown)) {
        throw new Error(`"$ echo $?" must follow a command and show a number, found "${shown}"`);
      }
      steps[steps.length - 1].exitCode = Number(shown);
      continue;
    }
    steps.push({ command, exitCode: 0 });
  }
  return steps;
}

function runShell(
  command: string,
  cwd: string,
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const { MLOPS_REGISTRY: _outer, ...env } = process.env; // the page's ./.mlops, not the caller's
    const child = spawn("bash", ["-c", `set -eo pipefail\n${command}`], {
      cwd,
      env: {
        ...env,
        PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
        // npx runs the repository's CLIs (on PATH) and never asks the registry.
        npm_config_offline: "true",
        npm_config_update_notifier: "false",
        NO_COLOR: "1",
        CI: "1",
        GITHUB_ACTOR: "ana",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

describe("shell blocks", () => {
  it("are split into commands, continuation lines joined, output and echo $? read", () => {
    const block = [
      "$ mlops models list --registry ./typo",
      "mlops: no registry at /home/ana/typo (set --registry or MLOPS_REGISTRY)",
      "$ echo $?",
      "2",
      "$ mlops gate --model wine \\",
      "    --promote production",
      "Verdict: PASS",
      "",
    ].join("\n");
    expect(shellSteps(block)).toEqual([
      { command: "mlops models list --registry ./typo", exitCode: 2 },
      { command: "mlops gate --model wine \\\n    --promote production", exitCode: 0 },
    ]);
    expect(shellSteps("mlops --help\nmlops models list\n")).toEqual([
      { command: "mlops --help\nmlops models list\n", exitCode: 0 },
    ]);
    expect(() => shellSteps("$ echo $?\n2\n")).toThrow(/must follow a command/);
  });
});

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
    // Each page starts in its own folder holding wine.csv, as a reader following it would.
    let pageDir = "";
    beforeAll(async () => {
      pageDir = join(workDir, name.replaceAll("/", "_").replace(/\.md$/, ""));
      await mkdir(pageDir, { recursive: true });
      await copyFile(join(workDir, "wine.csv"), join(pageDir, "wine.csv"));
      // As in a project that installed the packages: `npx mlops` finds ./node_modules/.bin.
      await symlink(join(repoRoot, "node_modules"), join(pageDir, "node_modules"), "dir");
      process.chdir(pageDir);
    });
    for (const [index, block] of found.entries()) {
      const title = `${block.language} block ${index + 1} (line ${block.line})`;
      if (block.language === "ts") {
        if (block.info === "no-run") continue;
        it(title, async () => {
          const file = join(runDir, `${name.replaceAll("/", "_")}-${index + 1}.ts`);
          await writeFile(file, `${block.code}\nexport {};\n`);
          await import(/* @vite-ignore */ file);
          // The first block of a page pays for transforming the sources it imports; on a loaded
          // machine that alone takes tens of seconds (a timeout is not an assertion).
        }, 180_000);
        continue;
      }
      const runBy = /^run-by:\s*(\S+)$/.exec(block.info);
      const noRun = /^no-run:\s*(\S.*)$/.exec(block.info);
      if (runBy) {
        it(`${title}: run by ${runBy[1]}`, async () => {
          const test = join(repoRoot, runBy[1]);
          expect(existsSync(test), `${name}:${block.line}: no test at ${runBy[1]}`).toBe(true);
          expect(await readFile(test, "utf8")).toContain(`docs/${name}`);
        });
      } else if (!noRun) {
        it(title, async () => {
          expect(
            block.info,
            `${name}:${block.line}: a sh block is run, or marked "no-run: REASON" or ` +
              `"run-by: TEST" (see docs/README.md)`,
          ).toBe("");
          for (const step of shellSteps(block.code)) {
            const { status, output } = await runShell(step.command, pageDir);
            expect(
              status,
              `${name}:${block.line}: "${step.command}" exited ${status}, the page says ` +
                `${step.exitCode}; it printed:\n${output}`,
            ).toBe(step.exitCode);
          }
        }, 300_000);
      }
    }
  });
}
