import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { OneHotStep } from "../artifact/types.js";
import type { Frame } from "../frame/frame.js";
import { readFrame } from "../io/index.js";
import { inferSchema } from "../schema/infer.js";
import { SchemaError } from "../schema/issues.js";
import { HOUSING_OCEAN, HOUSING_TREE_PARTS, housingTree } from "../testing/housing.js";
import { widenSchema } from "./contract.js";
import { createPredictor } from "./predictor.js";

// Eight rows of the California housing data (every 2500th row), as a new user's CSV has them:
// whole numbers written "41.0", no gap in total_bedrooms, four of the five ocean_proximity values.
const HOUSING = `longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,median_income,median_house_value,ocean_proximity
-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY
-121.95,37.35,42.0,1421.0,330.0,720.0,307.0,3.5774,261300.0,<1H OCEAN
-118.3,34.1,49.0,3979.0,1375.0,2368.0,1204.0,2.5352,325000.0,<1H OCEAN
-117.15,32.72,24.0,2218.0,654.0,1152.0,606.0,2.0781,187500.0,NEAR OCEAN
-121.29,37.96,52.0,888.0,324.0,630.0,258.0,1.2411,112500.0,INLAND
-118.45,34.06,52.0,204.0,34.0,74.0,28.0,15.0001,500001.0,<1H OCEAN
-117.11,32.58,16.0,1851.0,359.0,1271.0,373.0,3.6141,149300.0,NEAR OCEAN
-120.65,35.3,21.0,2580.0,552.0,1294.0,499.0,3.4432,268500.0,<1H OCEAN
`;

const OCEAN = [...HOUSING_OCEAN];
const oneHot = HOUSING_TREE_PARTS.preprocessing[0] as OneHotStep;
const numeric = HOUSING_TREE_PARTS.model.inputs.slice(0, 8);

const folder = await mkdtemp(join(tmpdir(), "mlops-contract-"));
afterAll(() => rm(folder, { recursive: true, force: true }));

async function csv(text: string): Promise<Frame> {
  const path = join(folder, `${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(path, text);
  return readFrame(path);
}

const housing = await csv(HOUSING);

function draft() {
  return inferSchema(housing, { target: "median_house_value" });
}

const tree = housingTree;

const row = {
  longitude: -122.23,
  latitude: 37.88,
  housing_median_age: 41.5,
  total_rooms: 880,
  total_bedrooms: null,
  population: 322,
  households: 126,
  median_income: 8.3252,
  ocean_proximity: "LAKE",
};

describe("widenSchema", () => {
  it("widens a draft to what a tree behind an ignoring one-hot step takes", () => {
    const before = draft().toJSON().fields;
    expect(before.housing_median_age).toEqual({ kind: "integer" });
    expect(before.total_bedrooms).toEqual({ kind: "integer" });
    const widened = widenSchema(draft(), tree(draft()).manifest).toJSON();
    expect(widened.fields.housing_median_age).toEqual({ kind: "number", nullable: true });
    expect(widened.fields.total_bedrooms).toEqual({ kind: "number", nullable: true });
    expect(widened.fields.ocean_proximity).toEqual({
      kind: "category",
      values: OCEAN,
      nullable: true,
      open: true,
    });
    // The target is the data's, as drafted.
    expect(widened.fields.median_house_value).toEqual({ kind: "integer" });
    expect(widened.target).toBe("median_house_value");
  });

  it("lets the model predict what the draft refused: 41.5, a gap, an unseen category", async () => {
    const strict = createPredictor(tree(draft()));
    expect(() => strict.predictRow(row)).toThrow(SchemaError);
    const served = createPredictor(tree(widenSchema(draft(), tree(draft()).manifest)));
    expect(served.predictRow(row)).toBe(400_000);
    expect(served.predictRow({ ...row, median_income: 2 })).toBe(150_000);
    const frame = await csv(
      "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households," +
        "median_income,ocean_proximity\n-122.23,37.88,41.5,880,,322,126,8.3,LAKE\n" +
        "-121.95,37.35,42,1421,330,720,307,3.5,INLAND\n",
    );
    expect([...served.predict(frame)]).toEqual([400_000, 150_000]);
  });

  it("keeps a feature strict where the model cannot take a missing value", () => {
    const linear = {
      kind: "linear",
      model: { inputs: [...numeric, ...oneHot.outputs] },
      preprocessing: [
        { kind: "simple_imputer", columns: ["total_bedrooms"], fill: [400] },
        { kind: "standard_scaler", columns: ["population"], mean: [800], scale: [500] },
        {
          kind: "polynomial_features",
          columns: ["households", "total_rooms"],
          powers: [
            [1, 0],
            [0, 1],
            [1, 1],
          ],
          outputs: ["households", "total_rooms", "households total_rooms"],
        },
        { kind: "drop_columns", columns: ["longitude"] },
        oneHot,
      ],
    };
    const fields = widenSchema(draft(), linear).toJSON().fields;
    expect(fields.total_bedrooms).toEqual({ kind: "number", nullable: true }); // imputed
    expect(fields.population).toEqual({ kind: "number" }); // scaled, then read by a linear model
    expect(fields.households).toEqual({ kind: "number" }); // polynomial outputs are read
    expect(fields.longitude).toEqual({ kind: "number", nullable: true }); // dropped
    expect(fields.ocean_proximity).toMatchObject({ nullable: true, open: true });
    const strictOneHot = { ...oneHot, handleUnknown: "error" };
    const unknownStep = { kind: "my_scaler", columns: ["latitude"] };
    const strict = widenSchema(draft(), {
      kind: "tree",
      model: { inputs: [...numeric, ...oneHot.outputs] },
      preprocessing: [unknownStep, strictOneHot],
    }).toJSON().fields;
    // A step it does not know may read anything: nothing becomes nullable; integers still widen.
    expect(strict.latitude).toEqual({ kind: "number" });
    expect(strict.housing_median_age).toEqual({ kind: "number" });
    expect(strict.ocean_proximity).toEqual({ kind: "category", values: OCEAN });
  });
});
