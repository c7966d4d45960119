import { MlopsError } from "../errors/error.js";
import type { UiModule } from "./types.js";

/** The package that draws the reports and serves `mlops ui`. */
export const UI_PACKAGE = "@mlops/ui";

/**
 * Loads `@mlops/ui` (an optional package: core never depends on it) for `--html`, `--report` and
 * `mlops ui`. Throws `ui_unavailable` saying what to install when it is absent, or too old to
 * have `feature`.
 *
 * @example
 * const ui = await loadUi("renderGateReport");
 * await writeFile("gate.html", ui.renderGateReport(gateRunReport(run)));
 */
export async function loadUi(
  feature: keyof UiModule,
  specifier: string = UI_PACKAGE,
): Promise<UiModule> {
  let loaded: Partial<UiModule>;
  try {
    // A variable specifier: bundlers and tsc leave the optional package alone.
    loaded = (await import(specifier)) as Partial<UiModule>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new MlopsError(
        "ui_unavailable",
        `the HTML reports and mlops ui need the ${specifier} package, which is not installed: ` +
          `npm install ${specifier}`,
        { cause: error },
      );
    }
    throw new MlopsError(
      "ui_unavailable",
      `cannot load ${specifier}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
  if (typeof loaded[feature] !== "function") {
    throw new MlopsError(
      "ui_unavailable",
      `${specifier} has no ${feature}: install the version of ${specifier} that matches ` +
        "@mlops/core",
    );
  }
  return loaded as UiModule;
}
