import { z } from "zod";
import { formatZodIssues } from "../artifact/manifest.js";
import type {
  DropColumnsStep,
  OneHotStep,
  PolynomialFeaturesStep,
  PreprocessingStep,
  SimpleImputerStep,
  StandardScalerStep,
} from "../artifact/types.js";
import { MlopsError } from "../errors/error.js";
import { type CategoryColumn, type Column, Frame } from "../frame/frame.js";
import { ColumnLayout } from "./layout.js";

/**
 * A preprocessing step compiled against a layout. `apply` transforms rows `0..n-1` of a
 * row-major block in place: the value of slot `s` in row `r` is `data[r * stride + s]`
 * (category slots hold codes, -1 for missing). Blocks start at row `rowOffset` of the data, for
 * messages; a single `predictRow` call passes `n = 1` and `rowOffset = -1`.
 * `missing[slot]` is 1 when the slot may hold a missing value in this block: a step clears it
 * for columns it fills and sets it for columns it may leave missing, so later steps and the
 * model can skip missing-value handling.
 */
export interface CompiledStep {
  apply(
    data: Float64Array,
    stride: number,
    n: number,
    missing: Uint8Array,
    rowOffset: number,
  ): void;
}

/**
 * How one kind of preprocessing step is checked and compiled. Register more kinds with
 * `registerPreprocessingStep`; `compile` updates `layout` (columns replaced, added, removed) and
 * throws `artifact_invalid` when the step does not fit the columns it finds.
 */
export interface PreprocessingStepDefinition<Step extends { kind: string }> {
  kind: Step["kind"];
  /** Validates the whole step object (`kind` included). */
  schema: z.ZodType<Step>;
  compile(step: Step, layout: ColumnLayout, context: string): CompiledStep;
}

const registry = new Map<string, PreprocessingStepDefinition<{ kind: string }>>();

/**
 * Adds a preprocessing step kind (or replaces one with the same `kind`), so artifacts using it
 * can be predicted with. Built in: `simple_imputer`, `standard_scaler`, `one_hot`,
 * `polynomial_features`, `drop_columns`.
 *
 * @example
 * registerPreprocessingStep({
 *   kind: "log1p",
 *   schema: z.object({ kind: z.literal("log1p"), columns: z.array(z.string()) }),
 *   compile(step, layout, context) {
 *     const slots = step.columns.map((name) => layout.get(name, context).slot);
 *     return {
 *       apply(data, stride, n) {
 *         for (const s of slots) {
 *           for (let at = s; at < n * stride; at += stride) data[at] = Math.log1p(data[at]);
 *         }
 *       },
 *     };
 *   },
 * });
 */
export function registerPreprocessingStep<Step extends { kind: string }>(
  definition: PreprocessingStepDefinition<Step>,
): void {
  registry.set(
    definition.kind,
    definition as unknown as PreprocessingStepDefinition<{ kind: string }>,
  );
}

/**
 * The preprocessing step kinds that can be compiled, sorted.
 *
 * @example
 * preprocessingStepKinds();
 * // ["drop_columns", "one_hot", "polynomial_features", "simple_imputer", "standard_scaler"]
 */
export function preprocessingStepKinds(): string[] {
  return [...registry.keys()].sort();
}

/** Checks `step` against its kind's schema and compiles it; `context` prefixes every message. */
export function compileStep(
  step: PreprocessingStep,
  layout: ColumnLayout,
  context: string,
): CompiledStep {
  const definition = registry.get(step.kind);
  if (!definition) {
    throw new MlopsError(
      "predictor_unsupported",
      `${context}: unknown preprocessing step kind "${step.kind}" ` +
        `(known: ${preprocessingStepKinds().join(", ")})`,
    );
  }
  const parsed = definition.schema.safeParse(step);
  if (!parsed.success) {
    throw new MlopsError("artifact_invalid", `${context}: ${formatZodIssues(parsed.error)}`);
  }
  return definition.compile(parsed.data, layout, context);
}

function invalid(context: string, detail: string): never {
  throw new MlopsError("artifact_invalid", `${context}: ${detail}`);
}

const uniqueNames = (values: string[]) => new Set(values).size === values.length;

// ------------------------------------------------------------------ simple_imputer

const simpleImputerSchema = z
  .strictObject({
    kind: z.literal("simple_imputer"),
    columns: z.array(z.string().min(1)).min(1).refine(uniqueNames, "column names must be unique"),
    fill: z.array(z.union([z.number(), z.string()])),
  })
  .refine((step) => step.fill.length === step.columns.length, {
    message: "needs one fill value per column",
    path: ["fill"],
  });

const simpleImputer: PreprocessingStepDefinition<SimpleImputerStep> = {
  kind: "simple_imputer",
  schema: simpleImputerSchema,
  compile(step, layout, context) {
    const slots = new Int32Array(step.columns.length);
    const fills = new Float64Array(step.columns.length);
    const isCategory = new Uint8Array(step.columns.length);
    step.columns.forEach((name, i) => {
      const column = layout.get(name, context);
      const fill = step.fill[i];
      slots[i] = column.slot;
      if (column.kind === "numeric") {
        if (typeof fill !== "number") {
          invalid(
            context,
            `fill[${i}]: column "${name}" is numeric, expected a number, got "${fill}"`,
          );
        }
        fills[i] = fill;
        return;
      }
      if (typeof fill !== "string") {
        invalid(
          context,
          `fill[${i}]: column "${name}" is a category, expected a string, got ${fill}`,
        );
      }
      isCategory[i] = 1;
      const dictionary = column.dictionary ?? [];
      let code = dictionary.indexOf(fill);
      if (code < 0) {
        code = dictionary.length;
        layout.setDictionary(name, [...dictionary, fill]);
      }
      fills[i] = code;
    });
    return {
      apply(data, stride, n, missing) {
        const end = n * stride;
        for (let i = 0; i < slots.length; i++) {
          const slot = slots[i];
          if (missing[slot] === 0) continue;
          const fill = fills[i];
          if (isCategory[i] === 1) {
            for (let at = slot; at < end; at += stride) if (data[at] < 0) data[at] = fill;
          } else {
            for (let at = slot; at < end; at += stride) if (Number.isNaN(data[at])) data[at] = fill;
          }
          missing[slot] = 0;
        }
      },
    };
  },
};

// ------------------------------------------------------------------ standard_scaler

const standardScalerSchema = z
  .strictObject({
    kind: z.literal("standard_scaler"),
    columns: z.array(z.string().min(1)).min(1).refine(uniqueNames, "column names must be unique"),
    mean: z.array(z.number()),
    scale: z.array(z.number()),
  })
  .refine((step) => step.mean.length === step.columns.length, {
    message: "needs one mean per column",
    path: ["mean"],
  })
  .refine((step) => step.scale.length === step.columns.length, {
    message: "needs one scale per column",
    path: ["scale"],
  });

const standardScaler: PreprocessingStepDefinition<StandardScalerStep> = {
  kind: "standard_scaler",
  schema: standardScalerSchema,
  compile(step, layout, context) {
    const slots = Int32Array.from(step.columns, (name) => {
      const column = layout.get(name, context);
      if (column.kind !== "numeric") {
        invalid(context, `column "${name}" is a category column; standard_scaler needs numbers`);
      }
      return column.slot;
    });
    const means = Float64Array.from(step.mean);
    // scikit-learn's _handle_zeros_in_scale: a constant column is centred, not divided by 0.
    const scales = Float64Array.from(step.scale, (scale) => (scale === 0 ? 1 : scale));
    return {
      apply(data, stride, n) {
        const end = n * stride;
        for (let i = 0; i < slots.length; i++) {
          const mean = means[i];
          const scale = scales[i];
          for (let at = slots[i]; at < end; at += stride) data[at] = (data[at] - mean) / scale;
        }
      },
    };
  },
};

// ------------------------------------------------------------------ one_hot

const oneHotSchema = z
  .strictObject({
    kind: z.literal("one_hot"),
    column: z.string().min(1),
    categories: z.array(z.string()).min(1).refine(uniqueNames, "categories must be unique"),
    handleUnknown: z.enum(["ignore", "error"]),
    outputs: z.array(z.string().min(1)).refine(uniqueNames, "output names must be unique"),
  })
  .refine((step) => step.outputs.length === step.categories.length, {
    message: "needs one output name per category",
    path: ["outputs"],
  });

const oneHot: PreprocessingStepDefinition<OneHotStep> = {
  kind: "one_hot",
  schema: oneHotSchema,
  compile(step, layout, context) {
    const input = layout.get(step.column, context);
    if (input.kind !== "category") {
      invalid(context, `column "${step.column}" is numeric; one_hot needs a category column`);
    }
    const dictionary = input.dictionary ?? [];
    // code of the input column -> index of the output column, -1 for a value not in categories
    const outputOf = Int32Array.from(dictionary, (value) => step.categories.indexOf(value));
    const at = layout.remove(step.column);
    const outputSlots = Int32Array.from(
      step.outputs,
      (name, i) => layout.add(name, "numeric", context, undefined, at + i).slot,
    );
    const inputSlot = input.slot;
    const strict = step.handleUnknown === "error";
    const fail = (code: number, row: number): never => {
      const found = code < 0 ? "a missing value" : `"${dictionary[code]}"`;
      const where = row < 0 ? "" : ` at rows[${row}]`;
      throw new MlopsError(
        "predictor_input",
        `${context}: column "${step.column}" has ${found}${where}, expected one of ${step.categories
          .map((c) => JSON.stringify(c))
          .join(", ")} (handleUnknown: "error")`,
      );
    };
    const outputs = outputSlots.length;
    return {
      apply(data, stride, n, missing, rowOffset) {
        for (let k = 0; k < outputs; k++) missing[outputSlots[k]] = 0;
        for (let r = 0, base = 0; r < n; r++, base += stride) {
          for (let k = 0; k < outputs; k++) data[base + outputSlots[k]] = 0;
          const code = data[base + inputSlot];
          const k = code >= 0 ? outputOf[code] : -1;
          if (k >= 0) data[base + outputSlots[k]] = 1;
          else if (strict) fail(code, rowOffset < 0 ? -1 : rowOffset + r);
        }
      },
    };
  },
};

// ------------------------------------------------------------------ polynomial_features

const polynomialFeaturesSchema = z
  .strictObject({
    kind: z.literal("polynomial_features"),
    columns: z.array(z.string().min(1)).min(1).refine(uniqueNames, "column names must be unique"),
    powers: z.array(z.array(z.number().int().nonnegative())).min(1),
    outputs: z.array(z.string().min(1)).refine(uniqueNames, "output names must be unique"),
  })
  .refine((step) => step.outputs.length === step.powers.length, {
    message: "needs one output name per row of powers",
    path: ["outputs"],
  })
  .superRefine((step, context) => {
    step.powers.forEach((row, i) => {
      if (row.length !== step.columns.length) {
        context.addIssue({
          code: "custom",
          message: `needs one power per column (${step.columns.length}), got ${row.length}`,
          path: ["powers", i],
        });
      }
    });
  });

const polynomialFeatures: PreprocessingStepDefinition<PolynomialFeaturesStep> = {
  kind: "polynomial_features",
  schema: polynomialFeaturesSchema,
  compile(step, layout, context) {
    const inputSlots = Int32Array.from(step.columns, (name) => {
      const column = layout.get(name, context);
      if (column.kind !== "numeric") {
        invalid(
          context,
          `column "${name}" is a category column; polynomial_features needs numbers`,
        );
      }
      return column.slot;
    });
    let at = -1;
    for (const name of step.columns) {
      const position = layout.remove(name);
      if (at < 0 || position < at) at = position;
    }
    const outputSlots = Int32Array.from(
      step.outputs,
      (name, i) => layout.add(name, "numeric", context, undefined, at + i).slot,
    );
    // Each output's factors, one entry per multiplication: the last input first, so a term is
    // x_first × (… × x_last) as scikit-learn builds it from the lower-degree terms.
    const starts = new Int32Array(step.outputs.length + 1);
    const factors: number[] = [];
    step.powers.forEach((row, i) => {
      for (let j = row.length - 1; j >= 0; j--) {
        for (let e = 0; e < row[j]; e++) factors.push(j);
      }
      starts[i + 1] = factors.length;
    });
    const factorSlots = Int32Array.from(factors, (j) => inputSlots[j]);
    const outputs = outputSlots.length;
    return {
      apply(data, stride, n, missing) {
        for (let k = 0; k < outputs; k++) {
          let mayMiss = 0;
          for (let f = starts[k]; f < starts[k + 1]; f++) mayMiss |= missing[factorSlots[f]];
          missing[outputSlots[k]] = mayMiss;
        }
        for (let r = 0, base = 0; r < n; r++, base += stride) {
          for (let k = 0; k < outputs; k++) {
            let value = 1;
            for (let f = starts[k]; f < starts[k + 1]; f++) value *= data[base + factorSlots[f]];
            data[base + outputSlots[k]] = value;
          }
        }
      },
    };
  },
};

// ------------------------------------------------------------------ drop_columns

const dropColumnsSchema = z.strictObject({
  kind: z.literal("drop_columns"),
  columns: z.array(z.string().min(1)).min(1).refine(uniqueNames, "column names must be unique"),
});

const dropColumns: PreprocessingStepDefinition<DropColumnsStep> = {
  kind: "drop_columns",
  schema: dropColumnsSchema,
  compile(step, layout, context) {
    for (const name of step.columns) {
      layout.get(name, context);
      layout.remove(name);
    }
    return { apply() {} };
  },
};

registerPreprocessingStep(simpleImputer);
registerPreprocessingStep(standardScaler);
registerPreprocessingStep(oneHot);
registerPreprocessingStep(polynomialFeatures);
registerPreprocessingStep(dropColumns);

// ------------------------------------------------------------------ frames

/** Rows per block: a power of two, about 32 KiB of scratch (the L1 cache), 64 to 512 rows. */
export function blockRows(slotCount: number): number {
  const rows = 1 << Math.floor(Math.log2(Math.max(1, 4096 / Math.max(1, slotCount))));
  return Math.min(512, Math.max(64, rows));
}

/**
 * Applies preprocessing steps to a frame, in order, and returns the transformed frame
 * (category columns stay codes + dictionary; numeric outputs are `number` columns).
 * The same compiled code runs inside predictors, so training and serving agree.
 *
 * @example
 * const scaled = applyPreprocessing(frame, [
 *   { kind: "standard_scaler", columns: ["x"], mean: [0.5], scale: [0.5] },
 * ]);
 */
export function applyPreprocessing(frame: Frame, steps: readonly PreprocessingStep[]): Frame {
  const layout = new ColumnLayout();
  const sources: Column[] = [];
  for (const [name, column] of frame.columns()) {
    if (column.kind === "category") layout.add(name, "category", "frame", column.dictionary);
    else layout.add(name, "numeric", "frame");
    sources.push(column);
  }
  const compiled = steps.map((step, i) => compileStep(step, layout, `preprocessing[${i}]`));
  const n = frame.rowCount;
  const stride = layout.slotCount;
  const size = blockRows(stride);
  const data = new Float64Array(size * stride);
  const missing = new Uint8Array(stride);
  const outputs = layout.columns.map((column) =>
    column.kind === "category" ? new Int32Array(n) : new Float64Array(n),
  );
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    // Every input slot may hold missing values: steps then check rather than trust.
    missing.fill(1);
    sources.forEach((column, slot) => {
      if (column.kind === "category") {
        const codes = column.codes;
        for (let r = 0; r < count; r++)
          data[r * stride + slot] = codes[start + r] < 0 ? -1 : codes[start + r];
      } else {
        const values = column.values;
        for (let r = 0; r < count; r++) data[r * stride + slot] = values[start + r];
      }
    });
    for (const step of compiled) step.apply(data, stride, count, missing, start);
    layout.columns.forEach((column, i) => {
      const output = outputs[i];
      for (let r = 0; r < count; r++) output[start + r] = data[r * stride + column.slot];
    });
  }
  return new Frame(
    layout.columns.map((column, i): [string, Column] => [
      column.name,
      column.kind === "category"
        ? ({
            kind: "category",
            codes: outputs[i] as Int32Array,
            dictionary: column.dictionary ?? [],
          } satisfies CategoryColumn)
        : { kind: "number", values: outputs[i] as Float64Array },
    ]),
    n,
  );
}
