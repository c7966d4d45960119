/**
 * Helpers for this repository's own tests, never published: `@mlops/core/testing` is the public
 * entry for plug-in authors (conformance suites and fixtures); what only our tests need lives here.
 */
export { type EnsureBuiltOptions, ensureBuilt } from "./build.js";
