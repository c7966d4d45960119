/**
 * The version of `@mlops/core` written into every artifact's lineage (`lineage.sdkVersion`).
 * A test keeps it equal to the `version` in `packages/core/package.json`.
 *
 * @example
 * import { SDK_VERSION } from "@mlops/core";
 * SDK_VERSION; // "0.0.0"
 */
export const SDK_VERSION = "0.0.0";
