import { Frame, MlopsError } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { fitTree } from "./fit-tree.js";
import { predictTree } from "./predict.js";
import { MISSING_BIN, markSingleUse, prepareTreeData } from "./tree-data.js";

function dataset(n: number, seed: number): { frame: Frame; y: Float64Array; names: string[] } {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const names = ["a", "b", "c", "d"];
  const columns = names.map(() => new Float64Array(n));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < names.length; j++) columns[j][i] = random();
    // A discrete feature with many ties, and some missing values.
    columns[2][i] = Math.floor(columns[2][i] * 8);
    if (i % 17 === 0) columns[3][i] = Number.NaN;
    y[i] = 4 * columns[0][i] + Math.sin(6 * columns[1][i]) + columns[2][i] / 4 + random();
  }
  const frame = new Frame(
    names.map((name, j) => [name, { kind: "number", values: columns[j] }] as const),
    n,
  );
  return { frame, y, names };
}

describe("prepareTreeData", () => {
  const { frame, names } = dataset(500, 3);

  it("presorts float32 columns in shared memory, missing values last", () => {
    const data = prepareTreeData(frame, names, { splitter: "best" });
    expect(data.splitter).toBe("best");
    expect(data.rowCount).toBe(500);
    expect(Array.from(data.missingCounts)).toEqual([0, 0, 0, 30]);
    for (let f = 0; f < names.length; f++) {
      const values = data.values![f];
      const order = data.order![f];
      expect(values.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(order.buffer).toBeInstanceOf(SharedArrayBuffer);
      const source = frame.numeric(names[f]);
      for (let i = 0; i < 500; i++) {
        expect(Object.is(values[i], Math.fround(source[i]))).toBe(true);
      }
      const present = 500 - data.missingCounts[f];
      expect(new Set(order).size).toBe(500);
      for (let k = 1; k < present; k++) {
        const before = values[order[k - 1]];
        const here = values[order[k]];
        expect(before <= here).toBe(true);
        if (before === here) expect(order[k - 1]).toBeLessThan(order[k]); // stable
      }
      for (let k = present; k < 500; k++) expect(Number.isNaN(values[order[k]])).toBe(true);
    }
  });

  it("keeps each feature's values in sorted order too, signs, −0, ties and NaN included", () => {
    const n = 3000;
    const awkward = [0, -0, -1.5, 2.5, 1e-40, -1e-40, 3.4e38, -3.4e38, Number.NaN];
    let state = 7;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
    const columns = {
      signed: Float64Array.from({ length: n }, () => (next() - 0.5) * 1e6),
      awkward: Float64Array.from({ length: n }, () => awkward[Math.floor(next() * awkward.length)]),
      constant: new Float64Array(n).fill(-2),
      missing: Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? Number.NaN : -i)),
    };
    const names = Object.keys(columns);
    const data = prepareTreeData(
      new Frame(
        names.map(
          (name) =>
            [name, { kind: "number", values: columns[name as keyof typeof columns] }] as const,
        ),
        n,
      ),
      names,
      { splitter: "best" },
    );
    for (let f = 0; f < names.length; f++) {
      const sorted = data.sorted![f];
      expect(sorted.buffer).toBeInstanceOf(SharedArrayBuffer);
      for (let k = 0; k < n; k++) {
        const expected = data.values![f][data.order![f][k]];
        if (!Object.is(sorted[k], expected)) {
          expect.fail(`${names[f]}[${k}]: ${sorted[k]}, expected ${expected}`);
        }
      }
    }
  });

  it("lets a fit prepared for itself work in its buffers, with the same tree, once", () => {
    const { frame: wide, y, names: columns } = dataset(2000, 9);
    const params = { maxDepth: 6 };
    const reusable = prepareTreeData(wide, columns, { splitter: "best" });
    const once = markSingleUse(prepareTreeData(wide, columns, { splitter: "best" }));
    const expected = fitTree(reusable, y, undefined, undefined, params);
    expect(fitTree(once, y, undefined, undefined, params)).toEqual(expected);
    // The reusable data still fits the same tree; the single-use data refuses a second fit.
    expect(fitTree(reusable, y, undefined, undefined, params)).toEqual(expected);
    expect(() => fitTree(once, y, undefined, undefined, params)).toThrow(/prepared for one fit/);
    expect(() => fitTree(once, y, undefined, Int32Array.from([0, 1, 2]), params)).toThrow(
      /prepared for one fit/,
    );
    // Its buffers were worked in: the presorted order is no longer sorted.
    const order = once.order![0];
    const values = once.values![0];
    let sorted = true;
    for (let k = 1; k < order.length; k++)
      if (values[order[k - 1]] > values[order[k]]) sorted = false;
    expect(sorted).toBe(false);
  });

  it("bins values so that x <= edges[code] and x > edges[code - 1]", () => {
    const data = prepareTreeData(frame, names, { splitter: "hist", bins: 32 });
    expect(data.splitter).toBe("hist");
    for (let f = 0; f < names.length; f++) {
      const codes = data.codes![f];
      const edges = data.edges![f];
      expect(codes.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(data.binCounts![f]).toBe(edges.length + 1);
      expect(data.binCounts![f]).toBeLessThanOrEqual(32);
      const source = frame.numeric(names[f]);
      for (let i = 0; i < 500; i++) {
        const x = source[i];
        const code = codes[i];
        if (Number.isNaN(x)) {
          expect(code).toBe(MISSING_BIN);
          continue;
        }
        if (code < edges.length) expect(x <= edges[code]).toBe(true);
        if (code > 0) expect(x > edges[code - 1]).toBe(true);
      }
    }
    // The discrete feature (8 values) gets one bin per value, edges at midpoints.
    expect(Array.from(data.edges![2])).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
  });

  it("can be posted to another thread without copying", async () => {
    const data = prepareTreeData(frame, names, { splitter: "best" });
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<typeof data>((resolve) => {
      port2.once("message", (message) => resolve(message as typeof data));
    });
    port1.postMessage(data);
    const copy = await received;
    port1.close();
    port2.close();
    copy.order![0][0] = -7;
    expect(data.order![0][0]).toBe(-7);
  });

  it("rejects infinite values, category and absent columns", () => {
    const bad = new Frame({ x: { kind: "number", values: Float64Array.of(1, Infinity) } });
    expect(() => prepareTreeData(bad, ["x"], { splitter: "best" })).toThrow(/Infinity at row 1/);
    expect(() => prepareTreeData(bad, ["x"], { splitter: "hist" })).toThrow(/Infinity at row 1/);
    const huge = new Frame({ x: { kind: "number", values: Float64Array.of(1, 1e39) } });
    expect(() => prepareTreeData(huge, ["x"], { splitter: "best" })).toThrow(/float32/);
    expect(() => prepareTreeData(frame, ["nope"])).toThrow(/no column "nope"/);
    expect(() => prepareTreeData(frame, names, { bins: 300 })).toThrow(/bins/);
  });
});

describe("fitTree on row subsets (cross-validation folds, bootstrap samples)", () => {
  const { frame, y, names } = dataset(1200, 5);
  const best = prepareTreeData(frame, names, { splitter: "best" });
  const hist = prepareTreeData(frame, names, { splitter: "hist" });
  const fold = Int32Array.from({ length: 1200 }, (_, i) => i).filter((i) => i % 5 !== 2);
  const params = { maxDepth: 7, minSamplesLeaf: 3 };

  it("gives the tree of the subset frame (exact splitter)", () => {
    const subset = fitTree(best, y, undefined, fold, params);
    const subFrame = frame.take(fold);
    const subY = Float64Array.from(fold, (i) => y[i]);
    const direct = fitTree(
      prepareTreeData(subFrame, names, { splitter: "best" }),
      subY,
      undefined,
      undefined,
      params,
    );
    expect(subset).toEqual(direct);
  });

  it("equals weights of 0 and 1 (hist splitter too)", () => {
    for (const data of [best, hist]) {
      const mask = new Float64Array(1200);
      for (const row of fold) mask[row] = 1;
      expect(fitTree(data, y, undefined, fold, params)).toEqual(
        fitTree(data, y, mask, undefined, params),
      );
    }
  });

  it("counts repeated rows as weights, like scikit-learn's bootstrap", () => {
    const sample = Int32Array.from({ length: 1200 }, (_, i) => ((i * 7919) % 1200) >> 1);
    const counts = new Float64Array(1200);
    for (const row of sample) counts[row]++;
    for (const data of [best, hist]) {
      expect(fitTree(data, y, undefined, sample, params)).toEqual(
        fitTree(data, y, counts, undefined, params),
      );
    }
  });

  it("predicts from the arrays it returns", () => {
    const tree = fitTree(best, y, undefined, undefined, { maxDepth: 3 });
    const columns = names.map((name) => frame.numeric(name));
    const predictions = predictTree(tree, columns, 1200);
    expect(new Set(predictions).size).toBeLessThanOrEqual(8);
    expect(tree.left.length).toBe(15);
  });

  it("checks its inputs", () => {
    const code = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        return MlopsError.isInstance(error) ? error.code : "other";
      }
      return "none";
    };
    expect(code(() => fitTree(best, y.subarray(1), undefined, undefined))).toBe("data_invalid");
    expect(code(() => fitTree(best, y, new Float64Array(3), undefined))).toBe("data_invalid");
    expect(code(() => fitTree(best, y, undefined, Int32Array.of(0, 1200)))).toBe(
      "argument_invalid",
    );
    expect(code(() => fitTree(best, y, new Float64Array(1200), undefined))).toBe("data_invalid");
    expect(code(() => fitTree(best, y, undefined, undefined, { maxDepth: 0 }))).toBe(
      "argument_invalid",
    );
    const bad = Float64Array.from(y);
    bad[4] = Number.NaN;
    expect(code(() => fitTree(best, bad, undefined, undefined))).toBe("data_invalid");
    // A NaN target outside the fold does not matter.
    expect(
      code(() =>
        fitTree(
          best,
          bad,
          undefined,
          fold.filter((row) => row !== 4),
        ),
      ),
    ).toBe("none");
  });
});
