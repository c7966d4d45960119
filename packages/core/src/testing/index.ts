/**
 * Shared conformance suites and fixtures for @mlops plug-ins (vitest required):
 * every data format and every registry store must pass its suite.
 */

export { dumpRegistry } from "./dump.js";
export {
  conformanceFrame,
  conformanceSchema,
  describeFormatConformance,
  expectSameFrame,
} from "./formats.js";
export { HOUSING_OCEAN, HOUSING_TREE_PARTS, housingTree } from "./housing.js";
export { type ExportCase, exportCaseArtifact, exportCaseFrame } from "./onnx-cases.js";
export {
  type CreateRegistryStore,
  describeArtifactStoreConformance,
  describeModelRegistryStoreConformance,
  describeRegistryStoreConformance,
  describeTrackingStoreConformance,
  expectMlopsError,
  INVALID_REGISTRY_NAMES,
} from "./registry.js";
export { describeStudyStoreConformance, type ReopenRegistryStore } from "./studies.js";
export { describeStudyWorkers, type StudyWorkersSetup } from "./study-workers.js";
