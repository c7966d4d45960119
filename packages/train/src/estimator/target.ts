import { Frame, MlopsError } from "@mlops/core";

/**
 * The target of `fit`, resolved: the feature frame, the target's values and its name.
 *
 * @example
 * const { features, values, targetName } = resolveTarget(frame, "price", "Pipeline.fit");
 */
export interface ResolvedTarget {
  /** The frame without the target column (every column when the target was given as values). */
  features: Frame;
  /** `features.names`. */
  featureNames: string[];
  /** The target, one finite value per row (undefined only when no target was given). */
  values: Float64Array;
  /** The target column's name, or `"target"` (made unique) for a target given as values. */
  targetName: string;
  rowCount: number;
}

/** Options of `resolveTarget`. */
export interface ResolveTargetOptions {
  /** A transformer may be fitted without a target (default false: a target is required). */
  optional?: boolean;
  /** The frame must keep at least one feature column besides the target (default true). */
  requireFeatures?: boolean;
}

/** A Frame, also one from another copy of @mlops/core (duplicate installs). */
export function isFrame(value: unknown): value is Frame {
  if (value instanceof Frame) return true;
  const candidate = value as Frame | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.column === "function" &&
    typeof candidate.has === "function" &&
    Array.isArray(candidate.names) &&
    Number.isInteger(candidate.rowCount)
  );
}

/**
 * Checks `fit`'s frame and target — the one place every estimator, pipeline, transformer and
 * search resolves a target. A string names a numeric column of `frame` (left out of the
 * features); an array gives one finite value per row and every column is a feature. Throws
 * `argument_invalid` (not a frame, a target of the wrong type) or `data_invalid` (no rows, an
 * unknown or category target column, a missing or infinite target value, no features left).
 *
 * @example
 * resolveTarget(frame, "quality", "DecisionTreeRegressor.fit").values; // Float64Array
 * resolveTarget(frame, undefined, "StandardScaler.fit", { optional: true }).values; // undefined
 */
export function resolveTarget(
  frame: Frame,
  target: string | ArrayLike<number>,
  context: string,
  options?: ResolveTargetOptions & { optional?: false },
): ResolvedTarget;
export function resolveTarget(
  frame: Frame,
  target: string | ArrayLike<number> | undefined,
  context: string,
  options: ResolveTargetOptions & { optional: true },
): Omit<ResolvedTarget, "values"> & { values: Float64Array | undefined };
export function resolveTarget(
  frame: Frame,
  target: string | ArrayLike<number> | undefined,
  context: string,
  options: ResolveTargetOptions = {},
): Omit<ResolvedTarget, "values"> & { values: Float64Array | undefined } {
  if (!isFrame(frame)) {
    throw new MlopsError(
      "argument_invalid",
      `${context}: expected a Frame (use Frame.fromRows(rows) or schema.toFrame(rows) for rows)`,
    );
  }
  const rowCount = frame.rowCount;
  if (rowCount === 0) {
    throw new MlopsError("data_invalid", `${context}: the frame has no rows; nothing to fit`);
  }
  let features = frame;
  let values: Float64Array | undefined;
  let targetName = "target";
  if (typeof target === "string") {
    if (!frame.has(target)) {
      throw new MlopsError(
        "data_invalid",
        `${context}: target "${target}" is not a column of the frame ` +
          `(columns: ${frame.names.join(", ") || "none"})`,
      );
    }
    const column = frame.column(target);
    if (column.kind === "category") {
      throw new MlopsError(
        "data_invalid",
        `${context}: target "${target}" is a category column; a regressor needs a numeric target`,
      );
    }
    values = column.values;
    targetName = target;
    features = frame.drop([target]);
  } else if (target === undefined || target === null) {
    if (options.optional !== true) {
      throw new MlopsError(
        "argument_invalid",
        `${context}: target: expected a column name or one number per row, got ${target}`,
      );
    }
  } else {
    if (typeof target !== "object" || typeof target.length !== "number") {
      throw new MlopsError(
        "argument_invalid",
        `${context}: target: expected a column name or one number per row, got ${typeof target}`,
      );
    }
    if (target.length !== rowCount) {
      throw new MlopsError(
        "data_invalid",
        `${context}: target has ${target.length} values, expected ${rowCount} (one per row)`,
      );
    }
    values = target instanceof Float64Array ? target : Float64Array.from(target);
    while (frame.has(targetName)) targetName = `_${targetName}`;
  }
  if (values !== undefined) {
    for (let i = 0; i < rowCount; i++) {
      const value = values[i];
      if (!Number.isFinite(value)) {
        const what = Number.isNaN(value) ? "a missing value (NaN)" : `${value}`;
        throw new MlopsError(
          "data_invalid",
          `${context}: target${typeof target === "string" ? ` "${target}"` : ""} has ${what} ` +
            `at row ${i}; drop or impute those rows first`,
        );
      }
    }
  }
  if (options.requireFeatures !== false && features.columnCount === 0) {
    throw new MlopsError(
      "data_invalid",
      `${context}: the frame has no feature columns besides the target`,
    );
  }
  return { features, featureNames: [...features.names], values, targetName, rowCount };
}
