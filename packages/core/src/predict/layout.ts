import { MlopsError } from "../errors/error.js";

/** How a slot holds its values: numbers (NaN = missing), or category codes (-1 = missing). */
export type SlotKind = "numeric" | "category";

/** One named column of the data as it flows through preprocessing into the model. */
export interface LayoutColumn {
  readonly name: string;
  /** Index of the scratch array (block path) or scratch cell (row path) holding the column. */
  readonly slot: number;
  readonly kind: SlotKind;
  /** Category columns: the value each code stands for. */
  readonly dictionary: readonly string[] | undefined;
}

/**
 * The columns at one point of a compiled pipeline. Preprocessing steps read columns by name,
 * then replace, add or remove them; each column lives in a numbered slot so the compiled code
 * works on arrays and indices, never on names.
 *
 * @example
 * // inside a PreprocessingStepDefinition's compile(step, layout, context):
 * const from = layout.get(step.column, context).slot;
 * const to = layout.add(`${step.column}_squared`, "numeric", context).slot;
 */
export class ColumnLayout {
  #columns: LayoutColumn[] = [];
  #slotCount = 0;

  /** Slots allocated so far (removed columns keep theirs). */
  get slotCount(): number {
    return this.#slotCount;
  }

  /** The current columns, in order. */
  get columns(): readonly LayoutColumn[] {
    return this.#columns;
  }

  find(name: string): LayoutColumn | undefined {
    return this.#columns.find((column) => column.name === name);
  }

  /** The column called `name`; throws `artifact_invalid` saying where it was needed. */
  get(name: string, context: string): LayoutColumn {
    const column = this.find(name);
    if (!column) {
      const names = this.#columns.map((c) => c.name).join(", ");
      throw new MlopsError(
        "artifact_invalid",
        `${context}: no column "${name}" at this point (columns: ${names || "none"})`,
      );
    }
    return column;
  }

  /** Adds a column in a new slot, at position `at` (default: last). */
  add(
    name: string,
    kind: SlotKind,
    context: string,
    dictionary?: readonly string[],
    at = this.#columns.length,
  ): LayoutColumn {
    if (this.find(name)) {
      throw new MlopsError("artifact_invalid", `${context}: column "${name}" already exists`);
    }
    const column: LayoutColumn = { name, slot: this.#slotCount++, kind, dictionary };
    this.#columns.splice(at, 0, column);
    return column;
  }

  /** A slot that belongs to no column (scratch for values that are checked, then dropped). */
  reserveSlot(): number {
    return this.#slotCount++;
  }

  /** Changes a category column's dictionary (same slot, same codes, new values appended). */
  setDictionary(name: string, dictionary: readonly string[]): void {
    const index = this.#columns.findIndex((column) => column.name === name);
    this.#columns[index] = { ...this.#columns[index], dictionary };
  }

  /** Removes a column; returns the position it had. */
  remove(name: string): number {
    const index = this.#columns.findIndex((column) => column.name === name);
    if (index >= 0) this.#columns.splice(index, 1);
    return index;
  }
}
