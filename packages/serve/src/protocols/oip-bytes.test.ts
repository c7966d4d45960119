import { createArtifact, field, schema } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { createInferenceApp } from "../app/app.js";
import { json, post } from "../testing/fixtures.js";
import { parseInferBytes } from "./oip-bytes.js";

/** The numbers of a one-tensor FP64 request, as the fast path reads them. */
function readNumbers(texts: readonly string[]): Float64Array | undefined {
  const body =
    `{"inputs":[{"name":"x","shape":[${texts.length}],"datatype":"FP64",` +
    `"data":[${texts.join(",")}]}]}`;
  return parseInferBytes(Buffer.from(body), 1e9)?.inputs[0].values;
}

/** A seeded generator (LCG) of the number texts clients send. */
function numberTexts(count: number, seed: number): string[] {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const digits = (n: number) => {
    let text = String(1 + Math.floor(random() * 9));
    for (let i = 1; i < n; i++) text += Math.floor(random() * 10);
    return text;
  };
  const kinds = [
    () => String(random() * 100), // shortest round-trip doubles: 16-17 digits
    () => String((random() - 0.5) * 10 ** Math.floor(random() * 44 - 22)),
    () => String(Math.floor(random() * 10_000)),
    () => {
      // 15 to 20 digits, a point anywhere, sometimes an exponent.
      const text = digits(15 + Math.floor(random() * 6));
      const at = 1 + Math.floor(random() * text.length);
      const number = at === text.length ? text : `${text.slice(0, at)}.${text.slice(at)}`;
      const exponent = random() < 0.3 ? `e${Math.floor(random() * 40) - 20}` : "";
      return `${random() < 0.5 ? "-" : ""}${number}${exponent}`;
    },
    () => {
      // Any finite double, from its bits.
      const value = new Float64Array(1);
      const words = new Uint32Array(value.buffer);
      words[0] = (random() * 2 ** 32) >>> 0;
      words[1] = ((random() * 2 ** 32) >>> 0) & 0x7fefffff;
      return String(value[0]);
    },
    () =>
      (2 ** Math.floor(random() * 80 - 40) * (1 - 2 ** -54)).toPrecision(
        17 + Math.floor(random() * 3),
      ),
    () => `0.${"0".repeat(Math.floor(random() * 6))}${digits(1 + Math.floor(random() * 17))}`,
  ];
  return Array.from({ length: count }, () =>
    kinds[Math.floor(random() * kinds.length)]().replace("e+", "e"),
  );
}

describe("parseInferBytes: numbers", () => {
  it("converts 200,000 generated numbers exactly as JSON.parse does", () => {
    const texts = numberTexts(200_000, 20_240_611);
    const values = readNumbers(texts)!;
    const expected = JSON.parse(`[${texts.join(",")}]`) as number[];
    const differ = expected.flatMap((value, i) =>
      Object.is(value, values[i]) ? [] : [`${texts[i]}: ${value} vs ${values[i]}`],
    );
    expect(differ.slice(0, 5)).toEqual([]);
  });

  it("reads the edge cases as JSON.parse does", () => {
    const texts = [
      "0",
      "-0",
      "0.0",
      "-0.000",
      "1e5",
      "1E-5",
      "1.5e+3",
      "-12.5e-1",
      "0.1",
      "0.30000000000000004",
      "9007199254740993",
      "9007199254740992.5",
      "18446744073709551616",
      "123456789012345678901234567890",
      "1.000000000000000000000000001",
      "2.2250738585072014e-308",
      "1.7976931348623157e308",
      "1e400",
      "-1e400",
      "5e-324",
      "4.9406564584124654e-324",
      "1e-400",
      "46.4635320180909",
      "19.043568360253975",
    ];
    const values = readNumbers(texts)!;
    texts.forEach((text, i) => {
      expect(Object.is(values[i], JSON.parse(text)), text).toBe(true);
    });
  });

  it("gives up on anything that is not a JSON number", () => {
    for (const bad of [
      "01",
      "1.",
      ".5",
      "+1",
      "-",
      "1e",
      "1e+",
      "NaN",
      "Infinity",
      '"1"',
      "true",
    ]) {
      expect(readNumbers(["1", bad]), bad).toBeUndefined();
    }
  });
});

describe("parseInferBytes: request shapes", () => {
  const parse = (body: unknown) =>
    parseInferBytes(Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), 1e6);

  it("reads tensors per feature, flat and nested matrices, nulls, ids and whitespace", () => {
    const read = parse(
      ' \n{ "id" : "r-1" ,\t"inputs" : [ { "data" : [ 1 , null , 3 ] , "name" : "a" , ' +
        '"shape" : [ 3 ] , "datatype" : "INT64" } , ' +
        '{"name":"m","shape":[2,2],"datatype":"FP32","data":[[1.5,2],[null,-4e1]]} ] } \r\n',
    );
    expect(read?.id).toBe("r-1");
    expect(read?.inputs.map((t) => [t.name, t.shape, t.datatype, [...t.values], t.nulls])).toEqual([
      ["a", [3], "INT64", [1, Number.NaN, 3], 1],
      ["m", [2, 2], "FP32", [1.5, 2, Number.NaN, -40], 1],
    ]);
    expect(
      parse({ inputs: [{ name: "e", shape: [0], datatype: "FP64", data: [] }] })?.inputs[0].values,
    ).toEqual(new Float64Array(0));
  });

  it("steps aside for everything else (the general path decides)", () => {
    const tensor = { name: "a", shape: [2], datatype: "FP64", data: [1, 2] };
    const bodies: unknown[] = [
      { inputs: [tensor], parameters: { content_type: "np" } },
      { inputs: [tensor], outputs: [{ name: "predict" }] },
      { inputs: [{ ...tensor, parameters: {} }] },
      { inputs: [{ ...tensor, datatype: "BYTES", data: ["x", "y"] }] },
      { inputs: [{ ...tensor, datatype: "BOOL", data: [true, false] }] },
      { inputs: [{ ...tensor, name: "caf\u00e9" }] },
      { inputs: [{ ...tensor, name: 'a"b' }] },
      { inputs: [{ ...tensor, data: [[1], [2]] }] },
      { inputs: [{ ...tensor, data: [1, 2, 3] }] },
      { inputs: [{ ...tensor, shape: [2, 1], data: [[1, 2], [3]] }] },
      { inputs: [{ ...tensor, shape: [1, 2, 1] }] },
      { inputs: [{ ...tensor, shape: [-2] }] },
      { inputs: [{ ...tensor, data: [1, "2"] }] },
      { inputs: [{ name: "a", shape: [2], datatype: "FP64" }] },
      { inputs: [] },
      { id: 7, inputs: [tensor] },
      {},
      [tensor],
      `{"inputs":[${JSON.stringify(tensor)}]} x`,
      `{"inputs":[${JSON.stringify(tensor)}],"inputs":[]}`,
      `{"inputs":[${JSON.stringify(tensor)}]`,
      `\uFEFF{"inputs":[${JSON.stringify(tensor)}]}`,
      { inputs: [{ ...tensor, shape: [2_000_000], data: [] }] },
    ];
    for (const body of bodies) expect(parse(body), JSON.stringify(body)).toBeUndefined();
  });
});

describe("OIP infer: the fast path answers as the general path does", () => {
  const trips = schema(
    {
      distance: field.number({ min: 0 }),
      stops: field.integer({ min: 0, max: 10 }),
      minutes: field.number(),
    },
    { target: "minutes" },
  );
  const artifact = createArtifact({
    kind: "linear",
    schema: trips,
    model: { inputs: ["distance", "stops"], intercept: 4 },
    arrays: { coefficients: Float64Array.of(2.5, 1.25) },
  });
  const app = createInferenceApp({ models: [{ name: "trips", artifact }], metrics: false });
  const infer = async (body: Record<string, unknown>) => {
    const response = await app.fetch(post("/v2/models/trips/infer", body));
    return { status: response.status, body: await json(response) };
  };
  // `parameters` sends the same request down the general path (JSON.parse).
  const general = (body: Record<string, unknown>) => infer({ ...body, parameters: {} });

  const cases: Record<string, Record<string, unknown>> = {
    "per feature": {
      id: "a",
      inputs: [
        { name: "distance", shape: [3], datatype: "FP64", data: [1.25, 0, 19.043568360253975] },
        { name: "stops", shape: [3, 1], datatype: "INT32", data: [[0], [3], [10]] },
      ],
    },
    "one [N, F] tensor": {
      id: "b",
      inputs: [{ name: "x", shape: [2, 2], datatype: "FP64", data: [1.5, 2, 3.25, 1] }],
    },
    "nested [N, F]": {
      id: "c",
      inputs: [
        {
          name: "x",
          shape: [2, 2],
          datatype: "FP32",
          data: [
            [1.5, 2],
            [3.25, 1],
          ],
        },
      ],
    },
    "a value the schema rejects": {
      id: "d",
      inputs: [
        { name: "distance", shape: [2], datatype: "FP64", data: [-1, 2] },
        { name: "stops", shape: [2], datatype: "INT64", data: [1, 11] },
      ],
    },
    "a missing value": {
      id: "e",
      inputs: [
        { name: "distance", shape: [1], datatype: "FP64", data: [null] },
        { name: "stops", shape: [1], datatype: "INT64", data: [1] },
      ],
    },
    "a fraction for INT64": {
      id: "f",
      inputs: [
        { name: "distance", shape: [1], datatype: "FP64", data: [1] },
        { name: "stops", shape: [1], datatype: "INT64", data: [1.5] },
      ],
    },
    "a column the schema lacks": {
      id: "g",
      inputs: [
        { name: "distance", shape: [1], datatype: "FP64", data: [1] },
        { name: "stops", shape: [1], datatype: "INT64", data: [1] },
        { name: "color", shape: [1], datatype: "FP64", data: [1] },
      ],
    },
    "a matrix of the wrong width": {
      id: "h",
      inputs: [{ name: "x", shape: [1, 3], datatype: "FP64", data: [1, 2, 3] }],
    },
  };

  for (const [name, body] of Object.entries(cases)) {
    it(name, async () => {
      expect(parseInferBytes(Buffer.from(JSON.stringify(body)), 1e6)).toBeDefined();
      const fast = await infer(body);
      expect(fast).toEqual(await general(body));
      if (fast.status === 200) expect(fast.body.id).toBe(body.id);
    });
  }

  it("predicts what the model computes by hand", async () => {
    const { body } = await infer(cases["per feature"]);
    expect(body.outputs[0].data).toEqual([
      4 + 2.5 * 1.25,
      4 + 1.25 * 3,
      4 + 2.5 * 19.043568360253975 + 1.25 * 10,
    ]);
  });
});
