import { describe, expect, it } from "vitest";
import { main, parseSize, SERVE_EXIT_CODES } from "./main.js";

function io() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
      env: {},
      cwd: "/",
    },
  };
}

describe("mlops-serve options", () => {
  it("reads sizes in bytes, kb, mb and gb (powers of 1024)", () => {
    expect(parseSize("1048576")).toBe(1048576);
    expect(parseSize("512kb")).toBe(512 * 1024);
    expect(parseSize("1mb")).toBe(1024 * 1024);
    expect(parseSize("1.5 MiB")).toBe(1.5 * 1024 * 1024);
    expect(parseSize("2G")).toBe(2 * 1024 ** 3);
    expect(() => parseSize("0")).toThrow("--max-body: must be at least 1 byte, got 0");
    expect(() => parseSize("1 tb")).toThrow(/expected a size such as/);
  });

  it("prints help and the version with exit 0", async () => {
    const help = io();
    expect(await main(["--help"], help.io)).toBe(SERVE_EXIT_CODES.success);
    expect(help.out.stdout).toContain("--api-key-hash HEX:SCOPES");
    const version = io();
    expect(await main(["--version"], version.io)).toBe(0);
    expect(version.out.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
