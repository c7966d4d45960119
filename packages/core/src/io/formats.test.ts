import { describe, expect, it } from "vitest";
import { arrowFormat } from "./arrow.js";
import { formatFor, formats } from "./index.js";
import { parquetFormat } from "./parquet.js";

describe("formats loaded on first use", () => {
  it("Parquet and Arrow stand in for their modules with the same names and extensions", () => {
    expect(formats.parquet.name).toBe(parquetFormat.name);
    expect(formats.parquet.extensions).toEqual(parquetFormat.extensions);
    expect(formats.arrow.name).toBe(arrowFormat.name);
    expect(formats.arrow.extensions).toEqual(arrowFormat.extensions);
    expect(formatFor("x.feather")).toBe(formats.arrow);
    expect(formatFor("x.parquet")).toBe(formats.parquet);
  });
});
