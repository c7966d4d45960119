import { MlopsError, SchemaError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { errorHeaders, oipErrorBody, restErrorBody, ServeError, toServeError } from "./errors.js";

describe("ServeError", () => {
  it("takes its status from the table and is an MlopsError", () => {
    const error = new ServeError("overloaded", "busy");
    expect(error.status).toBe(503);
    expect(error.retryAfter).toBe(1);
    expect(MlopsError.isInstance(error)).toBe(true);
    expect(ServeError.isInstance(error)).toBe(true);
    expect(ServeError.isInstance(new MlopsError("file_read", "x"))).toBe(false);
    expect(errorHeaders(error)).toEqual({ "content-type": "application/json", "retry-after": "1" });
    expect(restErrorBody(error)).toBe('{"error":{"code":"overloaded","message":"busy"}}');
    expect(oipErrorBody(error)).toBe('{"error":"busy"}');
  });

  it("toServeError keeps input errors 4xx and hides everything else", () => {
    const issues = [
      { code: "too_small" as const, path: ["x"], message: "m", expected: "e", received: "r" },
    ];
    const schemaError = toServeError(new SchemaError(issues));
    expect(schemaError.status).toBe(422);
    expect(schemaError.toJSON()).toEqual({
      code: "schema_invalid",
      message: "1 problem in data:\n  - x: m",
      issues,
    });
    expect(toServeError(new MlopsError("csv_ragged_row", "bad")).status).toBe(400);
    expect(toServeError(new MlopsError("predictor_input", "linear needs x")).status).toBe(422);
    const hidden = toServeError(new RangeError("stack details"));
    expect(hidden.toJSON()).toEqual({ code: "internal", message: "Internal server error" });
    expect(hidden.cause).toBeInstanceOf(RangeError);
    expect(toServeError(new MlopsError("registry_corrupt", "disk")).status).toBe(500);
  });
});
