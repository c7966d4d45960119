import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { Frame, numericColumn } from "../frame/frame.js";
import { createPredictor } from "../predict/predictor.js";
import { field } from "../schema/field.js";
import { schema } from "../schema/schema.js";
import { decodeArtifact, encodeArtifact } from "./codec.js";
import { importMlCartTree, type MlCartNode, nextDown } from "./ml-cart.js";

/** ml-cart's TreeNode#classify, as in its source: left when row[splitColumn] < splitValue. */
function classify(node: MlCartNode, row: number[]): number {
  if (node.right && node.left) {
    return row[node.splitColumn!] < node.splitValue!
      ? classify(node.left, row)
      : classify(node.right, row);
  }
  return node.distribution as number;
}

const options = {
  kind: "regression",
  gainFunction: "regression",
  splitFunction: "mean",
  minNumSamples: 3,
  maxDepth: Infinity,
};

// What DecisionTreeRegression#toJSON() gives (leaves carry `distribution`; a leaf that was a
// failed split also keeps its splitValue/splitColumn, which ml-cart ignores).
const model = {
  name: "DTRegression",
  options,
  root: {
    ...options,
    splitValue: 2.5,
    splitColumn: 0,
    gain: 10.1,
    numberSamples: 20,
    left: {
      ...options,
      splitValue: 0.1,
      splitColumn: 1,
      gain: 2,
      left: { ...options, distribution: 1.25 },
      right: { ...options, splitValue: 7, splitColumn: 0, gain: 0.5, distribution: 2.75 },
    },
    right: {
      ...options,
      splitValue: -0,
      splitColumn: 1,
      gain: 3,
      left: { ...options, distribution: -4 },
      right: {
        ...options,
        splitValue: 1e-300,
        splitColumn: 1,
        left: { ...options, distribution: 8.5 },
        right: { ...options, distribution: 16 },
      },
    },
  },
};

const lineage = { gitCommit: "abc1234" };

const xy = schema(
  { x: field.number().nullable(), y: field.number().nullable(), target: field.number() },
  { target: "target" },
);

describe("nextDown", () => {
  it("is the largest double below x", () => {
    expect(nextDown(1)).toBe(1 - Number.EPSILON / 2);
    expect(nextDown(0)).toBe(-Number.MIN_VALUE);
    expect(nextDown(-0)).toBe(-Number.MIN_VALUE);
    expect(nextDown(Number.MIN_VALUE)).toBe(0);
    expect(nextDown(-1)).toBe(-1 - Number.EPSILON);
    expect(nextDown(Number.POSITIVE_INFINITY)).toBe(Number.MAX_VALUE);
    for (const x of [2.5, 0.1, 1e-300, -7.25, 123456.789]) {
      expect(nextDown(x) < x).toBe(true);
      expect((nextDown(x) + x) / 2 === x || (nextDown(x) + x) / 2 === nextDown(x)).toBe(true);
    }
  });
});

describe("importMlCartTree", () => {
  const artifact = importMlCartTree(JSON.parse(JSON.stringify(model)), {
    schema: xy,
    inputs: ["x", "y"],
    lineage: { gitCommit: "abc1234" },
  });

  it("builds a scikit-learn style tree: depth-first, left first", () => {
    expect(Array.from(artifact.arrays["tree.left"])).toEqual([1, 2, -1, -1, 5, -1, 7, -1, -1]);
    expect(Array.from(artifact.arrays["tree.right"])).toEqual([4, 3, -1, -1, 6, -1, 8, -1, -1]);
    expect(Array.from(artifact.arrays["tree.feature"])).toEqual([0, 1, -2, -2, 1, -2, 1, -2, -2]);
    expect(artifact.arrays["tree.threshold"][0]).toBe(nextDown(2.5));
    // toJSON() output as it is (JSON.stringify would turn maxDepth: Infinity into null)
    const live = importMlCartTree(model, { schema: xy, inputs: ["x", "y"], lineage });
    expect(live.manifest.params).toMatchObject({
      source: "ml-cart",
      maxDepth: "Infinity",
      minNumSamples: 3,
    });
    expect(Array.from(live.arrays["tree.threshold"])).toEqual(
      Array.from(artifact.arrays["tree.threshold"]),
    );
  });

  it("predicts exactly what ml-cart predicts, on and around every split value", () => {
    const predictor = createPredictor(decodeArtifact(encodeArtifact(artifact)));
    const probes = [
      -Infinity,
      -5,
      -1e-300,
      -Number.MIN_VALUE,
      -0,
      0,
      Number.MIN_VALUE,
      1e-300,
      0.1,
      2.5,
      7,
      9,
    ];
    const values = probes.flatMap((v) =>
      Number.isFinite(v) ? [nextDown(v), v, -nextDown(-v)] : [],
    );
    const rows: number[][] = [];
    for (const x of values) for (const y of values) rows.push([x, y]);
    const frame = new Frame({
      x: numericColumn(rows.map((r) => r[0])),
      y: numericColumn(rows.map((r) => r[1])),
    });
    const batch = predictor.predict(frame);
    rows.forEach((row, i) => {
      const expected = classify(model.root as MlCartNode, row);
      expect(batch[i], `row ${row}`).toBe(expected);
      expect(predictor.predictRow({ x: row[0], y: row[1] })).toBe(expected);
    });
  });

  it("sends missing values right, as ml-cart does (NaN < v is false)", () => {
    const predictor = createPredictor(artifact);
    for (const row of [
      [Number.NaN, 0],
      [1, Number.NaN],
      [Number.NaN, Number.NaN],
      [5, Number.NaN],
    ]) {
      expect(
        predictor.predictRow({
          x: Number.isNaN(row[0]) ? null : row[0],
          y: Number.isNaN(row[1]) ? null : row[1],
        }),
      ).toBe(classify(model.root as MlCartNode, row));
    }
  });

  it("reports malformed trees with the node path", () => {
    const catchError = (json: unknown, inputs = ["x", "y"]) => {
      try {
        importMlCartTree(json, { schema: xy, inputs, lineage });
      } catch (error) {
        if (MlopsError.isInstance(error)) return error;
      }
      throw new Error("expected an MlopsError");
    };
    const broken = JSON.parse(JSON.stringify(model));
    broken.root.right.right.splitColumn = 5;
    expect(catchError(broken).message).toContain("root.right.right.splitColumn");
    delete broken.root.right.right;
    expect(catchError(broken).message).toContain("root.right.right: expected a node object");
    expect(catchError({ ...model, name: "DTClassifier" }).message).toContain('"DTClassifier"');
    expect(catchError(model, ["x", "target"]).message).toContain('"target" is not a feature');
  });
});

// The reference: ml-cart itself (a devDependency of this package, so always installed; it ships
// no type declarations, hence the loose type).
// biome-ignore lint/suspicious/noExplicitAny: ml-cart has no type declarations.
const mlCart: any = await import(/* @vite-ignore */ "ml-cart" as string);

describe("importMlCartTree against ml-cart", () => {
  it("predicts exactly what a trained ml-cart DecisionTreeRegression predicts", () => {
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const train = Array.from({ length: 200 }, () => [random() * 10, random() * 10, random()]);
    const target = train.map(([a, b, c]) => Math.sin(a) * 3 + b * b * 0.1 - c);
    const tree = new mlCart.DecisionTreeRegression({ maxDepth: 6 });
    tree.train(train, target);
    const three = schema({ a: field.number(), b: field.number(), c: field.number() });
    const artifact = importMlCartTree(JSON.parse(JSON.stringify(tree.toJSON())), {
      schema: three,
      inputs: ["a", "b", "c"],
      lineage,
    });
    const predictor = createPredictor(artifact);
    // fresh rows plus the training rows, whose values sit next to every split value
    const test = [
      ...Array.from({ length: 500 }, () => [random() * 10, random() * 10, random()]),
      ...train,
    ];
    const expected: number[] = tree.predict(test);
    const frame = new Frame({
      a: numericColumn(test.map((r) => r[0])),
      b: numericColumn(test.map((r) => r[1])),
      c: numericColumn(test.map((r) => r[2])),
    });
    expect(Array.from(predictor.predict(frame))).toEqual(expected);
    test.forEach((row, i) => {
      expect(predictor.predictRow({ a: row[0], b: row[1], c: row[2] })).toBe(expected[i]);
    });
  });
});
