import protobuf from "protobufjs";
import { MlopsError } from "../../errors/error.js";
import { ONNX_ML_PROTO } from "./onnx-proto.js";

/** ONNX `TensorProto.DataType` values used here. */
export const TensorType = {
  FLOAT: 1,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/** ONNX `AttributeProto.AttributeType` values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

let modelType: protobuf.Type | undefined;

/** ONNX's `ModelProto` message type, parsed once from the vendored onnx-ml.proto. */
export function modelProto(): protobuf.Type {
  if (modelType === undefined) {
    const { root } = protobuf.parse(ONNX_ML_PROTO, { keepCase: true });
    modelType = root.lookupType("onnx.ModelProto");
  }
  return modelType;
}

/** Serialises a `ModelProto` given as a plain object (snake_case field names). */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new MlopsError("artifact_invalid", `ONNX model: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parses ONNX bytes into a plain object (int64 as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array, source = "ONNX model"): Record<string, unknown> {
  const type = modelProto();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    throw new MlopsError(
      "artifact_invalid",
      `${source}: not an ONNX model (protobuf ModelProto): ${(error as Error).message}`,
    );
  }
  return type.toObject(message, { longs: Number, defaults: false, arrays: true }) as Record<
    string,
    unknown
  >;
}
