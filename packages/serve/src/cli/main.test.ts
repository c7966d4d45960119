import { describe, expect, it } from "vitest";
import { tempRegistry } from "../testing/fixtures.js";
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

  it("--unknown-fields reject refuses fields the model does not read; ignore is the default", async () => {
    const temp = await tempRegistry();
    const answers: number[] = [];
    try {
      for (const flags of [[], ["--unknown-fields", "reject"]]) {
        const { io: base } = io();
        let stop = () => {};
        const shutdown = new Promise<void>((resolve) => {
          stop = resolve;
        });
        const served = main(
          [
            "--registry",
            temp.dir + "/.mlops",
            "--model",
            "houses@production",
            "--port",
            "0",
            ...flags,
          ],
          {
            ...base,
            shutdown,
            onListening: async (server) => {
              const response = await fetch(`${server.url}/v1/models/houses/predict`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ rooms: 2, area: 10, color: "red", id: "order-17" }),
              });
              answers.push(response.status);
              stop();
            },
          },
        );
        expect(await served).toBe(SERVE_EXIT_CODES.success);
      }
      expect(answers).toEqual([200, 422]);
      const bad = io();
      expect(await main(["--model", "houses", "--unknown-fields", "strict"], bad.io)).toBe(2);
      expect(bad.out.stderr).toContain('--unknown-fields: expected ignore or reject, got "strict"');
    } finally {
      await temp.cleanup();
    }
  }, 60_000);
});
