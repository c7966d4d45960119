import type { Estimator } from "../estimator/estimator.js";

/**
 * An estimator as plain data, so that a worker thread can build the same one: its class name
 * and its parameters, nested estimators and transformers encoded the same way. A pipeline
 * (anything with scikit-learn's `steps` of `[name, step]` pairs) is encoded by its steps and
 * rebuilt with `new Pipeline(steps)`.
 *
 * @example
 * encodeEstimator(new DecisionTreeRegressor({ maxDepth: 3 }));
 * // { $estimator: "DecisionTreeRegressor", params: { maxDepth: 3, criterion: …, … } }
 */
export interface EstimatorSpec {
  $estimator: string;
  params?: Record<string, unknown>;
  steps?: [string, EstimatorSpec][];
}

/** Constructors by name, for `decodeEstimator` (estimators, transformers, pipelines). */
export type EstimatorConstructors = ReadonlyMap<
  string,
  // A pipeline takes its steps, the others their parameters.
  new (
    params: unknown,
  ) => Estimator<object>
>;

/** Anything with parameters that clones itself: estimators and transformers. */
interface Component {
  getParams(): object;
  setParams(params: object): unknown;
  clone(): unknown;
  steps?: unknown;
}

/** True for an estimator or transformer (duck-typed, any copy of the package). */
export function isComponent(value: unknown): value is Component {
  const candidate = value as Component | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.getParams === "function" &&
    typeof candidate.setParams === "function" &&
    typeof candidate.clone === "function"
  );
}

function pipelineSteps(value: Component): [string, Component][] | undefined {
  const steps = value.steps;
  if (!Array.isArray(steps) || steps.length === 0) return undefined;
  for (const step of steps) {
    if (!(Array.isArray(step) && typeof step[0] === "string" && isComponent(step[1]))) {
      return undefined;
    }
  }
  return steps as [string, Component][];
}

/** Thrown when a value cannot be sent to a worker as data (a function, a class instance). */
export class NotTransferableError extends Error {
  constructor(what: string) {
    super(`${what} cannot be sent to a worker thread`);
    this.name = "NotTransferableError";
  }
}

/** True for an object that follows the estimator contract (duck-typed, any copy of the package). */
export function isEstimatorLike(value: unknown): value is Estimator<object> {
  const candidate = value as Estimator<object> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.fit === "function" &&
    typeof candidate.predict === "function" &&
    typeof candidate.getParams === "function" &&
    typeof candidate.clone === "function"
  );
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function encodeValue(value: unknown, path: string): unknown {
  if (value === null || value === undefined) return value;
  const type = typeof value;
  if (type === "string" || type === "number" || type === "boolean") return value;
  if (type !== "object") throw new NotTransferableError(`${path} (a ${type})`);
  if (isComponent(value)) return encodeEstimator(value as Estimator<object>, path);
  if (Array.isArray(value)) return value.map((item, i) => encodeValue(item, `${path}[${i}]`));
  if (ArrayBuffer.isView(value)) return value;
  if (!isPlainObject(value as object)) {
    throw new NotTransferableError(
      `${path} (an instance of ${(value as object).constructor?.name})`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as object)) {
    out[key] = encodeValue(item, `${path}.${key}`);
  }
  return out;
}

/**
 * The estimator as an `EstimatorSpec`; throws `NotTransferableError` when a parameter is not
 * plain data.
 */
export function encodeEstimator(estimator: Estimator<object>, path = "estimator"): EstimatorSpec {
  const kind = estimator.constructor.name;
  const steps = pipelineSteps(estimator as Component);
  if (steps !== undefined) {
    return {
      $estimator: kind,
      steps: steps.map(([name, step]) => [
        name,
        encodeEstimator(step as Estimator<object>, `${path}.${name}`),
      ]),
    };
  }
  return {
    $estimator: kind,
    params: encodeValue(estimator.getParams(), `${path} (${kind}) params`) as Record<
      string,
      unknown
    >,
  };
}

function isSpec(value: unknown): value is EstimatorSpec {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as EstimatorSpec).$estimator === "string" &&
    (typeof (value as EstimatorSpec).params === "object" ||
      Array.isArray((value as EstimatorSpec).steps))
  );
}

function decodeValue(value: unknown, constructors: EstimatorConstructors): unknown {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  if (isSpec(value)) return decodeEstimator(value, constructors);
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, constructors));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = decodeValue(item, constructors);
  return out;
}

/** Builds the estimator an `EstimatorSpec` describes (unknown class names throw). */
export function decodeEstimator(
  spec: EstimatorSpec,
  constructors: EstimatorConstructors,
): Estimator<object> {
  const Constructor = constructors.get(spec.$estimator);
  if (Constructor === undefined) {
    throw new NotTransferableError(`estimator class ${spec.$estimator} (unknown to the worker)`);
  }
  if (spec.steps !== undefined) {
    return new Constructor(
      spec.steps.map(([name, step]) => [name, decodeEstimator(step, constructors)]),
    );
  }
  return new Constructor(decodeValue(spec.params, constructors) as Record<string, unknown>);
}
