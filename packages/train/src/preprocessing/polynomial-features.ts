import { MlopsError, type PreprocessingStep } from "@mlops/core";
import { isInteger, paramError } from "../estimator/params.js";
import { checkBoolean, checkColumnsParam } from "./params.js";
import {
  isCategory,
  Transformer,
  type TransformerInput,
  transformerColumns,
} from "./transformer.js";

/**
 * Hyperparameters of `PolynomialFeatures`.
 *
 * @example
 * const params: PolynomialFeaturesParams = {
 *   degree: 2, interactionOnly: false, includeBias: true, columns: null,
 * };
 */
export interface PolynomialFeaturesParams {
  /** The highest total degree of a term, an integer ≥ 0. */
  degree: number;
  /** Only products of distinct columns (`a b`, not `a^2`). */
  interactionOnly: boolean;
  /** Add the constant column `"1"`. */
  includeBias: boolean;
  /** The numeric columns to expand; null = every numeric column. */
  columns: string[] | null;
}

/**
 * scikit-learn's `powers_`: the exponent of each input per output term, ordered by degree,
 * then as `itertools.combinations_with_replacement` (or `combinations` for interactions only)
 * lists the columns.
 *
 * @example
 * polynomialPowers(2, 2, false, true); // [[0,0],[1,0],[0,1],[2,0],[1,1],[0,2]]
 */
export function polynomialPowers(
  featureCount: number,
  degree: number,
  interactionOnly: boolean,
  includeBias: boolean,
): number[][] {
  const powers: number[][] = [];
  if (includeBias) powers.push(new Array<number>(featureCount).fill(0));
  const combination: number[] = [];
  const visit = (start: number, left: number): void => {
    if (left === 0) {
      const row = new Array<number>(featureCount).fill(0);
      for (const j of combination) row[j]++;
      powers.push(row);
      return;
    }
    for (let j = start; j < featureCount; j++) {
      combination.push(j);
      visit(interactionOnly ? j + 1 : j, left - 1);
      combination.pop();
    }
  };
  for (let d = 1; d <= degree; d++) visit(0, d);
  return powers;
}

/**
 * scikit-learn's output names for `powers`: `"1"` for the constant, else the factors joined by
 * spaces, each `name` or `name^power` (`"a^2 b"`).
 *
 * @example
 * polynomialNames(["a", "b"], [[0, 0], [2, 1]]); // ["1", "a^2 b"]
 */
export function polynomialNames(columns: readonly string[], powers: number[][]): string[] {
  return powers.map((row) => {
    const factors: string[] = [];
    row.forEach((power, j) => {
      if (power > 0) factors.push(power === 1 ? columns[j] : `${columns[j]}^${power}`);
    });
    return factors.length === 0 ? "1" : factors.join(" ");
  });
}

/**
 * Replaces numeric columns by every product of them up to `degree` (scikit-learn's
 * `PolynomialFeatures`): the same terms, order, names (`1`, `a`, `a^2`, `a b`) and values,
 * exported as a core `polynomial_features` step (its `powers` are scikit-learn's `powers_`).
 * The terms take the place of the first expanded column; other columns pass through. A
 * missing input makes the terms that use it missing (scikit-learn refuses missing values).
 *
 * @example
 * const poly = new PolynomialFeatures({ degree: 2 }).fit(frame.select(["a", "b"]));
 * poly.featureNamesOut; // ["1", "a", "b", "a^2", "a b", "b^2"]
 */
export class PolynomialFeatures extends Transformer<PolynomialFeaturesParams> {
  #powers: number[][] | undefined;

  constructor(params: Partial<PolynomialFeaturesParams> = {}) {
    super({ degree: 2, interactionOnly: false, includeBias: true, columns: null }, params);
  }

  protected fitSteps({ frame, context }: TransformerInput): PreprocessingStep[] {
    this.#powers = undefined;
    const params = this.getParams();
    if (!(isInteger(params.degree) && params.degree >= 0)) {
      throw paramError("degree", "an integer ≥ 0", params.degree);
    }
    const interactionOnly = checkBoolean("interactionOnly", params.interactionOnly);
    const includeBias = checkBoolean("includeBias", params.includeBias);
    if (params.degree === 0 && !includeBias) {
      throw paramError("degree", "≥ 1 when includeBias is false (no term would be left)", 0);
    }
    const columns = transformerColumns(
      frame,
      checkColumnsParam(params.columns),
      (column) => !isCategory(column),
      "a numeric column (PolynomialFeatures multiplies numbers)",
      context,
    );
    const powers = polynomialPowers(columns.length, params.degree, interactionOnly, includeBias);
    this.#powers = powers;
    if (columns.length === 0) return [];
    const outputs = polynomialNames(columns, powers);
    const expanded = new Set(columns);
    for (const output of outputs) {
      if (frame.has(output) && !expanded.has(output)) {
        throw new MlopsError(
          "data_invalid",
          `${context}: the output column "${output}" clashes with a column that passes ` +
            "through; rename it or list it in columns",
        );
      }
    }
    return [{ kind: "polynomial_features", columns, powers, outputs }];
  }

  /** The exponent of each expanded column per output term (scikit-learn's `powers_`). */
  get powers(): number[][] {
    this.requireFitted("reading powers");
    return structuredClone(this.#powers!);
  }
}
