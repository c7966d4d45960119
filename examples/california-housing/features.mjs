// Seed 002's feature contract on the California housing data: the scikit-learn layout
// (MedInc, HouseAge, AveRooms, …) under the JSON field names of the seed's REST API, and the
// answer `median_house_value` in dollars.
import { Frame, field, numericColumn, readFrame, schema } from "@mlops/core";

/** The eight features, in the order of seed 002's request body. */
export const FEATURES = [
  "median_income_in_block",
  "median_house_age_in_block",
  "average_rooms",
  "average_bedrooms",
  "population_per_block",
  "average_house_occupancy",
  "block_latitude",
  "block_longitude",
];
export const TARGET = "median_house_value";

/**
 * What the service accepts: California's block groups, with plausible limits (the data's own
 * ranges are narrower). Incomes are in tens of thousands of dollars, as in the census file.
 */
export const housingSchema = schema(
  {
    median_income_in_block: field.number({ min: 0, max: 100, description: "× $10,000" }),
    median_house_age_in_block: field.number({ min: 0, max: 200, description: "years" }),
    average_rooms: field.number({ min: 0, max: 1000 }),
    average_bedrooms: field.number({ min: 0, max: 500 }),
    population_per_block: field.number({ min: 0, max: 100_000 }),
    average_house_occupancy: field.number({ min: 0, max: 2000 }),
    block_latitude: field.number({ min: 32, max: 42.5 }),
    block_longitude: field.number({ min: -124.5, max: -114 }),
    median_house_value: field.number({ min: 0, description: "US dollars" }),
  },
  { target: TARGET },
);

/**
 * Reads Géron's `housing.csv` into seed 002's fields (rows without `total_bedrooms` dropped, as
 * scikit-learn's copy has none). Returns the frame and how many rows were dropped.
 */
export async function readHousing(path) {
  const raw = await readFrame(path);
  const column = (name) => raw.numeric(name);
  const income = column("median_income");
  const age = column("housing_median_age");
  const rooms = column("total_rooms");
  const bedrooms = column("total_bedrooms");
  const population = column("population");
  const households = column("households");
  const latitude = column("latitude");
  const longitude = column("longitude");
  const value = column("median_house_value");
  const keep = [];
  for (let i = 0; i < raw.rowCount; i++) {
    if (Number.isFinite(bedrooms[i]) && households[i] > 0) keep.push(i);
  }
  const pick = (compute) => numericColumn(keep.map(compute));
  const frame = new Frame({
    median_income_in_block: pick((i) => income[i]),
    median_house_age_in_block: pick((i) => age[i]),
    average_rooms: pick((i) => rooms[i] / households[i]),
    average_bedrooms: pick((i) => bedrooms[i] / households[i]),
    population_per_block: pick((i) => population[i]),
    average_house_occupancy: pick((i) => population[i] / households[i]),
    block_latitude: pick((i) => latitude[i]),
    block_longitude: pick((i) => longitude[i]),
    median_house_value: pick((i) => value[i]),
  });
  return { frame: housingSchema.conformFrame(frame), dropped: raw.rowCount - keep.length };
}

/**
 * A fixed split by row: `train` (the first models), `live` (the requests of a normal day),
 * `fresh` (the labelled data that arrives later, for the retrain) and `evaluation` (what the
 * gate scores both models on). Every 10 rows: 5 train, 2 live, 2 fresh, 1 evaluation.
 */
export function splitHousing(frame) {
  const parts = { train: [], live: [], fresh: [], evaluation: [] };
  for (let i = 0; i < frame.rowCount; i++) {
    const slot = i % 10;
    const part = slot < 5 ? "train" : slot < 7 ? "live" : slot < 9 ? "fresh" : "evaluation";
    parts[part].push(i);
  }
  return Object.fromEntries(Object.entries(parts).map(([name, rows]) => [name, frame.take(rows)]));
}

/**
 * The world after the shift: every block's median income `factor` times higher, and house
 * values with them (capped as the census caps them). The drifted batch is `live` shifted; the
 * fresh and evaluation data are shifted the same way, with their true values.
 */
export function shiftIncomes(frame, factor) {
  const income = frame.numeric("median_income_in_block").map((value) => value * factor);
  const value = frame.numeric(TARGET).map((price) => Math.min(price * factor, 500_001));
  return frame
    .withColumn("median_income_in_block", { kind: "number", values: income })
    .withColumn(TARGET, { kind: "number", values: value });
}

/** One request body of seed 002 from row `i` of a frame (the eight fields, no target). */
export function requestBody(frame, i) {
  return Object.fromEntries(FEATURES.map((name) => [name, frame.get(i, name)]));
}
