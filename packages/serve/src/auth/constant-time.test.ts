// The key check compares the presented key's hash with every configured hash, whichever
// matched: the number of comparisons (and so the time) does not depend on the key.
import { beforeEach, describe, expect, it, vi } from "vitest";

const compared = vi.hoisted(() => ({ count: 0 }));

vi.mock("node:crypto", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:crypto")>();
  return {
    ...original,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.count++;
      return original.timingSafeEqual(a, b);
    },
  };
});

const { apiKeyGuard, hashApiKey } = await import("./api-keys.js");

const guard = apiKeyGuard({
  keys: ["first", "second", "third"].map((key) => ({
    sha256: hashApiKey(key),
    scopes: ["predict" as const],
  })),
});

function check(key: string): boolean {
  try {
    guard({
      route: { name: "v1_predict", scope: "predict", protocol: "rest" },
      method: "POST",
      path: "/v1/models/x/predict",
      header: (name) => (name === "x-api-key" ? key : undefined),
    });
    return true;
  } catch {
    return false;
  }
}

describe("constant-time key comparison", () => {
  beforeEach(() => {
    compared.count = 0;
  });

  it("compares with every configured hash whether the first, the last or none matches", () => {
    for (const [key, accepted] of [
      ["first", true],
      ["third", true],
      ["unknown", false],
      ["", false],
    ] as const) {
      compared.count = 0;
      expect(check(key), key).toBe(accepted);
      // An empty x-api-key is no key at all: nothing to compare.
      expect(compared.count, key).toBe(key === "" ? 0 : 3);
    }
  });
});
