import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { loadUi } from "./load.js";

async function failure(promise: Promise<unknown>): Promise<MlopsError> {
  try {
    await promise;
  } catch (error) {
    if (MlopsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected loadUi to fail");
}

describe("loadUi, the seam to the optional @mlops/ui package", () => {
  it("says which package to install when it is absent", async () => {
    const error = await failure(loadUi("renderGateReport", "@mlops/ui-not-installed"));
    expect(error.code).toBe("ui_unavailable");
    expect(error.message).toBe(
      "the HTML reports and mlops ui need the @mlops/ui-not-installed package, which is not " +
        "installed: npm install @mlops/ui-not-installed",
    );
  });

  it("says the version does not match when the package lacks what is asked for", async () => {
    // A module that loads but is not @mlops/ui.
    const error = await failure(loadUi("renderDriftReport", "node:path"));
    expect(error.code).toBe("ui_unavailable");
    expect(error.message).toBe(
      "node:path has no renderDriftReport: install the version of node:path that matches " +
        "@mlops/core",
    );
  });
});
