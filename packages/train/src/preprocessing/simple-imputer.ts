import { type Column, MlopsError, type PreprocessingStep } from "@mlops/core";
import { paramError } from "../estimator/params.js";
import { checkChoice, checkColumnsParam } from "./params.js";
import {
  isCategory,
  Transformer,
  type TransformerInput,
  transformerColumns,
} from "./transformer.js";

/**
 * How `SimpleImputer` picks each column's fill value.
 *
 * @example
 * new SimpleImputer({ strategy: "median" });
 */
export type ImputerStrategy = "mean" | "median" | "most_frequent" | "constant";

/**
 * Hyperparameters of `SimpleImputer`.
 *
 * @example
 * const params: SimpleImputerParams = { strategy: "constant", fillValue: 0, columns: null };
 */
export interface SimpleImputerParams {
  /**
   * `"mean"` and `"median"` (numeric columns), `"most_frequent"` (numeric and category columns;
   * ties go to the smallest value), `"constant"` (`fillValue`).
   */
  strategy: ImputerStrategy;
  /**
   * The value `"constant"` fills in: a number (numeric columns) or a string (category
   * columns); null = 0 for numeric and `"missing_value"` for category columns, as in
   * scikit-learn.
   */
  fillValue: number | string | null;
  /**
   * The columns to impute; null = every column the strategy (and a typed `fillValue`) applies
   * to: numeric columns for mean and median, all columns otherwise.
   */
  columns: string[] | null;
}

const STRATEGIES: readonly ImputerStrategy[] = ["mean", "median", "most_frequent", "constant"];

/**
 * Fills missing values (NaN in numeric columns, missing codes in category columns) with a
 * statistic learned per column at fit (scikit-learn's `SimpleImputer`): the mean, the median
 * (the average of the two middle values for an even count), the most frequent value (the
 * smallest among ties), or a constant. Exported as a core `simple_imputer` step, which a served
 * model applies to the rows it receives. A column whose every value is missing cannot give a
 * statistic and is an error (scikit-learn drops it with a warning).
 *
 * @example
 * const imputer = new SimpleImputer({ strategy: "median" }).fit(frame, "price");
 * imputer.statistics; // { rooms: 5, age: 38 }
 * const filled = imputer.transform(frame);
 */
export class SimpleImputer extends Transformer<SimpleImputerParams> {
  #statistics: Record<string, number | string> | undefined;

  constructor(params: Partial<SimpleImputerParams> = {}) {
    super({ strategy: "mean", fillValue: null, columns: null }, params);
  }

  protected fitSteps({ frame, context }: TransformerInput): PreprocessingStep[] {
    this.#statistics = undefined;
    const params = this.getParams();
    const strategy = checkChoice("strategy", params.strategy, STRATEGIES);
    const fillValue = params.fillValue;
    if (
      !(fillValue === null || typeof fillValue === "string" || Number.isFinite(fillValue as number))
    ) {
      throw paramError("fillValue", "null, a finite number or a string", fillValue);
    }
    const numericOnly = strategy === "mean" || strategy === "median";
    const accepts = (column: Column): boolean => {
      if (numericOnly) return !isCategory(column);
      if (strategy === "constant" && fillValue !== null) {
        return typeof fillValue === "string" ? isCategory(column) : !isCategory(column);
      }
      return true;
    };
    const expected = numericOnly
      ? `a numeric column (strategy "${strategy}")`
      : typeof fillValue === "string"
        ? "a category column (fillValue is a string)"
        : "a numeric column (fillValue is a number)";
    const columns = transformerColumns(
      frame,
      checkColumnsParam(params.columns),
      accepts,
      expected,
      context,
    );
    const fill = columns.map((name) => {
      const column = frame.column(name);
      if (strategy === "constant") {
        if (fillValue !== null) return fillValue;
        return isCategory(column) ? "missing_value" : 0;
      }
      const value =
        column.kind === "category"
          ? mostFrequentCategory(column.codes, column.dictionary)
          : strategy === "mean"
            ? mean(column.values)
            : strategy === "median"
              ? median(column.values)
              : mostFrequentNumber(column.values);
      if (value === undefined) {
        throw new MlopsError(
          "data_invalid",
          `${context}: column "${name}" has no values to compute the ` +
            `${strategy.replace("_", " ")} ` +
            'from (every row is missing); drop it or use strategy "constant"',
        );
      }
      return value;
    });
    this.#statistics = Object.fromEntries(columns.map((name, j) => [name, fill[j]]));
    if (columns.length === 0) return [];
    return [{ kind: "simple_imputer", columns, fill }];
  }

  /** The fill value of each imputed column (scikit-learn's `statistics_`). */
  get statistics(): Record<string, number | string> {
    this.requireFitted("reading statistics");
    return { ...this.#statistics! };
  }
}

function mean(values: Float64Array): number | undefined {
  let sum = 0;
  let count = 0;
  for (const x of values) {
    if (Number.isNaN(x)) continue;
    sum += x;
    count++;
  }
  return count === 0 ? undefined : sum / count;
}

function present(values: Float64Array): Float64Array {
  let count = 0;
  for (const x of values) if (!Number.isNaN(x)) count++;
  const out = new Float64Array(count);
  let k = 0;
  for (const x of values) if (!Number.isNaN(x)) out[k++] = x;
  return out.sort();
}

function median(values: Float64Array): number | undefined {
  const sorted = present(values);
  const m = sorted.length;
  if (m === 0) return undefined;
  const middle = m >> 1;
  return m % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function mostFrequentNumber(values: Float64Array): number | undefined {
  const sorted = present(values);
  let best: number | undefined;
  let bestCount = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    // Ascending order: a tie keeps the smaller value found first.
    if (j - i > bestCount) {
      bestCount = j - i;
      best = sorted[i];
    }
    i = j;
  }
  return best;
}

function mostFrequentCategory(
  codes: Int32Array,
  dictionary: readonly string[],
): string | undefined {
  const counts = new Float64Array(dictionary.length);
  for (const code of codes) if (code >= 0) counts[code]++;
  let best: string | undefined;
  let bestCount = 0;
  dictionary.forEach((value, code) => {
    const count = counts[code];
    if (
      count > bestCount ||
      (count === bestCount && count > 0 && best !== undefined && value < best)
    ) {
      bestCount = count;
      best = value;
    }
  });
  return best;
}
