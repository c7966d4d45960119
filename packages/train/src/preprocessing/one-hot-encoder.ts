import { type CategoryColumn, MlopsError, type PreprocessingStep } from "@mlops/core";
import { paramError } from "../estimator/params.js";
import { checkChoice, checkColumnsParam } from "./params.js";
import {
  isCategory,
  Transformer,
  type TransformerInput,
  transformerColumns,
} from "./transformer.js";

/**
 * Hyperparameters of `OneHotEncoder`.
 *
 * @example
 * const params: OneHotEncoderParams = {
 *   handleUnknown: "ignore", drop: "first", columns: null, categories: "auto",
 * };
 */
export interface OneHotEncoderParams {
  /**
   * A value not seen at fit (or a missing one) at transform: `"error"` throws, `"ignore"`
   * encodes it as all zeros (scikit-learn's default is `"error"`).
   */
  handleUnknown: "error" | "ignore";
  /** `"first"`: leave out each column's first category (its rows become all zeros); null: keep. */
  drop: "first" | null;
  /** The category columns to encode; null = every category column. */
  columns: string[] | null;
  /**
   * The categories of each column (scikit-learn's `categories`): `"auto"` learns the values
   * seen at fit, sorted; a map from column name to its categories, in the order given, fixes
   * them (a column left out is learned). A value outside the given categories at fit is an
   * error with `handleUnknown: "error"` and encodes as all zeros with `"ignore"`.
   */
  categories: "auto" | Record<string, string[]>;
}

function checkCategories(value: unknown): "auto" | Record<string, string[]> {
  if (value === "auto") return value;
  const ok =
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every(
      (list) =>
        Array.isArray(list) &&
        list.length > 0 &&
        list.every((item) => typeof item === "string") &&
        new Set(list).size === list.length,
    );
  if (!ok) {
    throw paramError(
      "categories",
      '"auto" or a map from column name to a non-empty list of unique strings',
      value,
    );
  }
  return value as Record<string, string[]>;
}

/**
 * Replaces each category column by one 0/1 column per category seen at fit, named
 * `<column>_<value>`, categories in sorted order (scikit-learn's `OneHotEncoder`, dense
 * output). `drop: "first"` leaves out the first category's column. Exported as core `one_hot`
 * steps (plus a `drop_columns` step for `drop: "first"`).
 *
 * Missing values are not a category of their own (scikit-learn makes a `<column>_nan` column):
 * they encode as all zeros with `handleUnknown: "ignore"`; with `"error"` a missing value at fit
 * is an error (impute first, e.g. `SimpleImputer({ strategy: "most_frequent" })`).
 *
 * @example
 * const encoder = new OneHotEncoder({ handleUnknown: "ignore" }).fit(frame, "price");
 * encoder.categories; // { color: ["blue", "green", "red"] }
 * encoder.transform(frame).names; // [..., "color_blue", "color_green", "color_red"]
 */
export class OneHotEncoder extends Transformer<OneHotEncoderParams> {
  #categories: Record<string, string[]> | undefined;

  constructor(params: Partial<OneHotEncoderParams> = {}) {
    super({ handleUnknown: "error", drop: null, columns: null, categories: "auto" }, params);
  }

  protected fitSteps({ frame, context }: TransformerInput): PreprocessingStep[] {
    this.#categories = undefined;
    const params = this.getParams();
    const handleUnknown = checkChoice("handleUnknown", params.handleUnknown, ["error", "ignore"]);
    const given = checkCategories(params.categories);
    if (params.drop !== null && params.drop !== "first") {
      throw paramError("drop", `null or "first"`, params.drop);
    }
    const columns = transformerColumns(
      frame,
      checkColumnsParam(params.columns),
      isCategory,
      "a category column (OneHotEncoder encodes categories)",
      context,
    );
    const encoded = new Set(columns);
    for (const name of given === "auto" ? [] : Object.keys(given)) {
      if (!encoded.has(name)) {
        throw new MlopsError(
          "data_invalid",
          `${context}: categories names "${name}", which is not a column it encodes ` +
            `(${columns.join(", ") || "none"})`,
        );
      }
    }
    const taken = new Set(frame.names.filter((name) => !encoded.has(name)));
    const categories: Record<string, string[]> = {};
    const steps: PreprocessingStep[] = [];
    const dropped: string[] = [];
    for (const name of columns) {
      const column = frame.column(name) as CategoryColumn;
      const used = new Uint8Array(column.dictionary.length);
      let missing = false;
      for (const code of column.codes) {
        if (code < 0) missing = true;
        else used[code] = 1;
      }
      if (missing && handleUnknown === "error") {
        throw new MlopsError(
          "data_invalid",
          `${context}: column "${name}" has missing values; impute them first ` +
            `(SimpleImputer with strategy "most_frequent" or "constant") or use ` +
            `handleUnknown: "ignore" (missing values then encode as all zeros)`,
        );
      }
      const seen = column.dictionary.filter((_, code) => used[code] === 1);
      const fixed = given === "auto" ? undefined : given[name];
      const values = fixed === undefined ? seen.sort() : [...fixed];
      if (fixed !== undefined && handleUnknown === "error") {
        const unknown = seen.filter((value) => !fixed.includes(value));
        if (unknown.length > 0) {
          throw new MlopsError(
            "data_invalid",
            `${context}: column "${name}" has ${unknown
              .slice(0, 5)
              .map((value) => JSON.stringify(value))
              .join(", ")}, not among its categories (${fixed.join(", ")}); add them or use ` +
              'handleUnknown: "ignore"',
          );
        }
      }
      if (values.length === 0) {
        throw new MlopsError("data_invalid", `${context}: column "${name}" has no values`);
      }
      const outputs = values.map((value) => `${name}_${value}`);
      for (const output of outputs) {
        if (taken.has(output)) {
          throw new MlopsError(
            "data_invalid",
            `${context}: the output column "${output}" (column "${name}", value ` +
              `"${output.slice(name.length + 1)}") clashes with another column; rename one`,
          );
        }
        taken.add(output);
      }
      categories[name] = values;
      steps.push({ kind: "one_hot", column: name, categories: values, handleUnknown, outputs });
      if (params.drop === "first") dropped.push(outputs[0]);
    }
    if (dropped.length > 0) steps.push({ kind: "drop_columns", columns: dropped });
    this.#categories = categories;
    return steps;
  }

  /** The categories of each encoded column, sorted (scikit-learn's `categories_`). */
  get categories(): Record<string, string[]> {
    this.requireFitted("reading categories");
    return structuredClone(this.#categories!);
  }
}
