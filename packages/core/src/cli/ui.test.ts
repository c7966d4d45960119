// `mlops ui`'s own arguments. The app itself (a child process of the built `mlops ui`, over real
// HTTP and in Chromium) is tested in @mlops/ui (packages/ui/src/server/browser.test.ts).
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { type CliIo, main } from "./main.js";

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    cwd: tmpdir(),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe("mlops ui", () => {
  it("refuses a port that is not 0 to 65535, saying what it expected", async () => {
    for (const [port, expected] of [
      ["http", "expected a positive integer"],
      ["1.5", "expected a positive integer"],
      ["70000", "expected 0 (a free port) to 65535"],
    ]) {
      const result = await cli(["ui", "--port", port]);
      expect(result.code, port).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr, port).toContain("--port");
      expect(result.stderr, port).toContain(expected);
    }
  });

  it("is listed in mlops --help with its summary", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\bui\s+Browse the registry in a local web app/);
  });
});
