import { access, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { type Column, categoryColumn, cellValue, Frame, numericColumn } from "../frame/frame.js";
import type { FrameFormat, FrameOrigin, InvalidRow } from "../io/types.js";
import { field } from "../schema/field.js";
import { type Schema, schema } from "../schema/schema.js";

/** The category values of the fixture, in the order `conformanceSchema()` declares them. */
const COLORS = ["red", "wh,ite", 'say "hi"', "line\nbreak", "ünïcödé 🍷", "unused"] as const;

/**
 * The fixture every format must round-trip: 7 rows (so batches of 3 end with a short one) of a
 * number column with a missing value, -0, 1e-300 and the largest double, an integer column
 * with a missing value and 2^53 - 1, a boolean column with a missing value, and a category
 * column whose values hold a comma, quotes, a newline and non-ASCII text, plus a missing one.
 *
 * @example
 * await format.write(path, conformanceFrame());
 */
export function conformanceFrame(): Frame {
  return new Frame({
    alcohol: numericColumn([1.5, -0, null, 1e-300, 1.7976931348623157e308, -2.25, 0]),
    quality: numericColumn([1, -2, 3, null, 0, 42, 9007199254740991], "integer"),
    organic: numericColumn([1, 0, null, 1, 1, 0, 0], "boolean"),
    color: categoryColumn(
      ["red", "wh,ite", null, 'say "hi"', "line\nbreak", "ünïcödé 🍷", "red"],
      COLORS,
    ),
  });
}

/**
 * The schema of `conformanceFrame()`: every field nullable, the category values declared in the
 * order of the fixture's dictionary (so a conformed read has the very same codes).
 *
 * @example
 * const frame = await format.read(path, { schema: conformanceSchema() });
 */
export function conformanceSchema(): Schema {
  return schema({
    alcohol: field.number().nullable(),
    quality: field.integer().nullable(),
    organic: field.boolean().nullable(),
    color: field.category(COLORS).nullable(),
  });
}

/**
 * Asserts two frames hold the same columns, kinds and values: numeric arrays compared with
 * `Object.is` (so NaN equals NaN and -0 differs from 0), categories by their string values.
 *
 * @example
 * expectSameFrame(await format.read(path, { schema }), conformanceFrame());
 */
export function expectSameFrame(actual: Frame, expected: Frame): void {
  expect(actual.names).toEqual(expected.names);
  expect(actual.rowCount).toBe(expected.rowCount);
  for (const name of expected.names) {
    const want = expected.column(name);
    const got = actual.column(name);
    expect(got.kind, `kind of column "${name}"`).toBe(want.kind);
    expect(describeColumn(got, actual.rowCount), `values of column "${name}"`).toEqual(
      describeColumn(want, expected.rowCount),
    );
  }
}

/** Values as comparable strings: `Object.is` semantics for numbers, JSON for category values. */
function describeColumn(column: Column, rowCount: number): string[] {
  const out: string[] = new Array(rowCount);
  for (let row = 0; row < rowCount; row++) {
    if (column.kind === "category") out[row] = JSON.stringify(cellValue(column, row));
    else {
      const value = column.values[row];
      out[row] = Object.is(value, -0) ? "-0" : String(value);
    }
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function captureError(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Registers the shared conformance tests every `FrameFormat` must pass: a schema'd round trip
 * of `conformanceFrame()`, streaming in batches, column selection, `file_not_found`, and
 * atomic replacement of an existing file. `typed: true` formats (Parquet, Arrow) must also
 * round-trip every kind without a schema.
 *
 * @example
 * // parquet.conformance.test.ts
 * describeFormatConformance(parquetFormat, { typed: true });
 */
export function describeFormatConformance(
  format: FrameFormat,
  options: { typed?: boolean } = {},
): void {
  describe(`${format.name} format conformance`, () => {
    let directory = "";
    const fileName = `fixture${format.extensions[0]}`;
    const pathOf = (name: string) => join(directory, name);

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), `mlops-${format.name}-conformance-`));
    });
    afterAll(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it("writes the fixture frame and reads it back identical with the schema", async () => {
      const path = pathOf(fileName);
      await format.write(path, conformanceFrame());
      const frame = await format.read(path, { schema: conformanceSchema() });
      expectSameFrame(frame, conformanceFrame());
      const color = frame.column("color");
      expect(color.kind === "category" && color.dictionary).toEqual([...COLORS]);
    });

    if (options.typed) {
      it("round-trips every column kind without a schema", async () => {
        const path = pathOf(`typed-${fileName}`);
        await format.write(path, conformanceFrame());
        expectSameFrame(await format.read(path), conformanceFrame());
      });
    }

    it("streams frames of at most batchSize rows whose concatenation equals the read", async () => {
      const path = pathOf(`stream-${fileName}`);
      const fixture = conformanceFrame();
      await format.write(path, fixture);
      const schemaOptions = { schema: conformanceSchema() };
      const batches: Frame[] = [];
      for await (const batch of format.stream(path, { ...schemaOptions, batchSize: 3 })) {
        batches.push(batch);
      }
      expect(batches.map((batch) => batch.rowCount)).toEqual([3, 3, 1]);
      expect(batches.length).toBe(Math.ceil(fixture.rowCount / 3));
      expectSameFrame(Frame.concat(batches), await format.read(path, schemaOptions));
      if (options.typed) {
        const untyped: Frame[] = [];
        for await (const batch of format.stream(path, { batchSize: 3 })) untyped.push(batch);
        expectSameFrame(Frame.concat(untyped), fixture);
      }
    });

    it("reads only the requested columns", async () => {
      const path = pathOf(`columns-${fileName}`);
      await format.write(path, conformanceFrame());
      const subset = schema({
        alcohol: field.number().nullable(),
        color: field.category(COLORS).nullable(),
      });
      const columns = ["alcohol", "color"];
      const frame = await format.read(path, { columns, schema: subset });
      expectSameFrame(frame, conformanceFrame().select(columns));
      const untyped = await format.read(path, { columns });
      expect(untyped.names).toEqual(columns);
      const batches: Frame[] = [];
      for await (const batch of format.stream(path, { columns, batchSize: 3 })) {
        batches.push(batch);
      }
      expect(batches.every((batch) => batch.names.join() === columns.join())).toBe(true);
    });

    it("throws file_not_found for a missing file, from read and from stream", async () => {
      const path = pathOf(`missing${format.extensions[0]}`);
      const fromRead = await captureError(() => format.read(path));
      expect(MlopsError.isInstance(fromRead) && fromRead.code).toBe("file_not_found");
      const fromStream = await captureError(async () => {
        for await (const _ of format.stream(path)) break;
      });
      expect(MlopsError.isInstance(fromStream) && fromStream.code).toBe("file_not_found");
    });

    it("streams batches through openWriter into a file equal to the whole frame", async () => {
      const path = pathOf(`writer-${fileName}`);
      const fixture = conformanceFrame();
      const writer = await format.openWriter(path);
      for (const [start, end] of [
        [0, 3],
        [3, 3],
        [3, 6],
        [6, 7],
      ]) {
        await writer.write(fixture.slice(start, end));
        // Nothing appears under the final name before close().
        expect(await exists(path)).toBe(false);
      }
      expect(writer.rowCount).toBe(7);
      await writer.close();
      expectSameFrame(await format.read(path, { schema: conformanceSchema() }), fixture);
      if (format.encode) {
        const text = [0, 3, 6].map((start, i) =>
          Buffer.from(
            format.encode!(fixture.slice(start, start + 3), { first: i === 0, path }),
          ).toString("utf8"),
        );
        const { readFile } = await import("node:fs/promises");
        expect(text.join("")).toBe(await readFile(path, "utf8"));
      }
    });

    it("abort() leaves neither the file nor a temporary file", async () => {
      const path = pathOf(`aborted-${fileName}`);
      const writer = await format.openWriter(path);
      await writer.write(conformanceFrame());
      await writer.abort();
      expect((await readdir(directory)).filter((name) => name.includes("aborted"))).toEqual([]);
    });

    it("hands rows that violate the schema to onInvalidRow and keeps the rest", async () => {
      const path = pathOf(`invalid-${fileName}`);
      await format.write(path, conformanceFrame());
      const strict = schema({
        alcohol: field.number({ min: 0 }).nullable(),
        quality: field.integer().nullable(),
        organic: field.boolean().nullable(),
        color: field.category(COLORS).nullable(),
      });
      const invalid: InvalidRow[] = [];
      const batches: Frame[] = [];
      for await (const batch of format.stream(path, {
        schema: strict,
        batchSize: 3,
        onInvalidRow: (row) => invalid.push(row),
      })) {
        batches.push(batch);
      }
      // Only -2.25 (row 5) is below min 0; -0 is not.
      expect(invalid.map((row) => row.row)).toEqual([5]);
      expect(invalid[0].issues.map((issue) => [issue.code, issue.path])).toEqual([
        ["too_small", [5, "alcohol"]],
      ]);
      expect(invalid[0].location.file).toBe(path);
      expect(invalid[0].location.line).toBeGreaterThan(0);
      expect(invalid[0].values.alcohol).toBe(-2.25);
      expect(invalid[0].values.quality).toBe(42);
      const kept = Frame.concat(batches);
      expect(kept.rowCount).toBe(6);
      expectSameFrame(kept, conformanceFrame().take([0, 1, 2, 3, 4, 6]));
    });

    it("tells onFrameOrigin the data row and line of every row it returns", async () => {
      const path = pathOf(`origin-${fileName}`);
      await format.write(path, conformanceFrame());
      const strict = schema({
        alcohol: field.number({ min: 0 }).nullable(),
        quality: field.integer().nullable(),
        organic: field.boolean().nullable(),
        color: field.category(COLORS).nullable(),
      });
      const invalid: InvalidRow[] = [];
      const origins: FrameOrigin[] = [];
      const sizes: number[] = [];
      for await (const batch of format.stream(path, {
        schema: strict,
        batchSize: 3,
        onInvalidRow: (row) => invalid.push(row),
        onFrameOrigin: (origin) => origins.push(origin),
      })) {
        sizes.push(batch.rowCount);
      }
      expect(origins.map((origin) => origin.rowCount)).toEqual(sizes);
      expect(origins.every((origin) => origin.file === path)).toBe(true);
      const rows = origins.flatMap((origin) =>
        Array.from({ length: origin.rowCount }, (_, i) => origin.row(i)),
      );
      expect(rows).toEqual([0, 1, 2, 3, 4, 6]);
      const lines = origins.flatMap((origin) =>
        Array.from({ length: origin.rowCount }, (_, i) => origin.line(i)),
      );
      // Lines rise through the file, and the rejected row's line sits between rows 4 and 6.
      for (let i = 1; i < lines.length; i++) expect(lines[i]).toBeGreaterThan(lines[i - 1]);
      expect(invalid[0].location.line).toBeGreaterThan(lines[4]);
      expect(invalid[0].location.line).toBeLessThan(lines[5]);
      // A whole read reports one origin for its one frame.
      const whole: FrameOrigin[] = [];
      const frame = await format.read(path, { onFrameOrigin: (origin) => whole.push(origin) });
      expect(whole.map((origin) => origin.rowCount)).toEqual([frame.rowCount]);
      expect(whole[0].row(6)).toBe(6);
    });

    it("keeps undeclared columns as read with keepUnknownColumns", async () => {
      const path = pathOf(`unknown-${fileName}`);
      await format.write(path, conformanceFrame());
      const partial = schema({ organic: field.boolean().nullable() });
      const frame = await format.read(path, { schema: partial, keepUnknownColumns: true });
      // The file's column order, the declared column typed by the schema.
      expect(frame.names).toEqual(["alcohol", "quality", "organic", "color"]);
      expect(frame.column("organic").kind).toBe("boolean");
      expect(frame.get(5, "quality")).toBe(42);
      expect(frame.get(0, "color")).toBe("red");
      const rejected = await captureError(() => format.read(path, { schema: partial }));
      expect(MlopsError.isInstance(rejected) && rejected.code).toBe("schema_invalid");
    });

    it("replaces an existing file atomically, leaving no temporary files", async () => {
      const path = pathOf(`replace-${fileName}`);
      await format.write(path, conformanceFrame());
      const replacement = conformanceFrame().slice(2, 5);
      await format.write(path, replacement);
      expectSameFrame(await format.read(path, { schema: conformanceSchema() }), replacement);
      const leftovers = (await readdir(directory)).filter((name) => name.includes("replace"));
      expect(leftovers).toEqual([`replace-${fileName}`]);
    });
  });
}
