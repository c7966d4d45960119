// A synthetic food-delivery table in the shape of seed 000's data set (the public Kaggle
// "food delivery time" set, which cannot be downloaded here): 29 numeric features, an `id`
// and the target `duration_time` in minutes.
//
// It is a port of the peers' generator (../../../shared/peers/serve/train_model.py,
// `make_data(n=45_593, seed=2024)`): the same columns, distributions and target formula,
// drawn column by column in the same order. The random numbers differ: numpy's PCG64 stream
// is not reproduced. Instead every draw is a counter hash of (seed, column, row) — the
// peers' portable `friedman_hash` uniform — so the table depends only on the seed, and a
// port to another language gives the same values bit for bit.
import { Frame, field, schema } from "@mlops/core";

/** The 29 features, in the order of seed 000's request body (after `id`). */
export const FEATURES = [
  "delivery_person_age",
  "delivery_person_ratings",
  "restaurant_latitude",
  "restaurant_longitude",
  "delivery_location_latitude",
  "delivery_location_longitude",
  "weather_conditions",
  "road_traffic_density",
  "vehicle_condition",
  "type_of_order",
  "type_of_vehicle",
  "multiple_deliveries",
  "festival",
  "city",
  "city_code",
  "day",
  "month",
  "quarter",
  "year",
  "day_of_week",
  "is_month_start",
  "is_month_end",
  "is_quarter_start",
  "is_quarter_end",
  "is_year_start",
  "is_year_end",
  "is_weekend",
  "order_prepare_time",
  "distance",
];

const flag = (description) => field.integer({ min: 0, max: 1, description });
const code = (max, description) => field.integer({ min: 0, max, description });

/**
 * The feature contract. Ranges are what the service accepts (plausible limits), not the
 * ranges of the synthetic data. `unknownKeys: "strip"` lets clients keep sending `id`.
 */
export const deliverySchema = schema(
  {
    delivery_person_age: field.number({ min: 15, max: 80, description: "years" }),
    delivery_person_ratings: field.number({ min: 0, max: 5 }),
    restaurant_latitude: field.number({ min: -90, max: 90 }),
    restaurant_longitude: field.number({ min: -180, max: 180 }),
    delivery_location_latitude: field.number({ min: -90, max: 90 }),
    delivery_location_longitude: field.number({ min: -180, max: 180 }),
    weather_conditions: code(5, "label-encoded: 0..5"),
    road_traffic_density: code(3, "label-encoded: 0 low .. 3 jam"),
    vehicle_condition: code(3, "0 worst .. 3 best"),
    type_of_order: code(3, "label-encoded"),
    type_of_vehicle: code(3, "label-encoded"),
    multiple_deliveries: code(3, "other orders on the same trip"),
    festival: flag("1 on a festival day"),
    city: code(2, "0 metropolitan, 1 urban, 2 semi-urban"),
    city_code: field.integer({ min: 0, description: "label-encoded city" }),
    day: field.integer({ min: 1, max: 31 }),
    month: field.integer({ min: 1, max: 12 }),
    quarter: field.integer({ min: 1, max: 4 }),
    year: field.integer({ min: 2000, max: 2100 }),
    day_of_week: field.integer({ min: 0, max: 6, description: "0 = Monday" }),
    is_month_start: flag(),
    is_month_end: flag(),
    is_quarter_start: flag(),
    is_quarter_end: flag(),
    is_year_start: flag(),
    is_year_end: flag(),
    is_weekend: flag(),
    order_prepare_time: field.number({ min: 0, description: "minutes" }),
    distance: field.number({ min: 0, description: "km, haversine" }),
    duration_time: field.number({ min: 0, max: 120, description: "minutes" }),
  },
  {
    target: "duration_time",
    unknownKeys: "strip",
    description: "Food delivery duration (seed 000's contract, synthetic data)",
  },
);

// ------------------------------------------------------------------ random numbers

function fmix32(h) {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The peers' counter-hash uniform in [0, 1): the i-th draw of stream `seed`. */
function uniformHash(seed, i) {
  const base = (Math.imul(seed, 0x85ebca77) + 0x165667b1) >>> 0;
  const k = (Math.imul(i >>> 0, 0x9e3779b9) + base) >>> 0;
  return fmix32(k) / 4294967296;
}

/** One stream per column: numpy draws column by column from one generator. */
function streams(seed) {
  let next = 0;
  const stream = () => {
    const id = (Math.imul(seed >>> 0, 1000003) + next++) >>> 0;
    return (i) => uniformHash(id, i);
  };
  return {
    uniform: (low, high) => {
      const u = stream();
      return (i) => low + (high - low) * u(i);
    },
    integers: (low, high) => {
      const u = stream();
      return (i) => low + Math.floor(u(i) * (high - low));
    },
    normal: (mean, sd) => {
      const u1 = stream();
      const u2 = stream();
      // Box–Muller; 1 - u keeps the logarithm finite.
      return (i) => mean + sd * Math.sqrt(-2 * Math.log(1 - u1(i))) * Math.cos(2 * Math.PI * u2(i));
    },
  };
}

const radians = (degrees) => (degrees * Math.PI) / 180;

function haversineKm(lat1, lon1, lat2, lon2) {
  const p1 = radians(lat1);
  const p2 = radians(lat2);
  const a =
    Math.sin((p2 - p1) / 2) ** 2 +
    Math.cos(p1) * Math.cos(p2) * Math.sin(radians(lon2 - lon1) / 2) ** 2;
  return 2 * 6371.0 * Math.asin(Math.sqrt(a));
}

/** Calendar features of 2022-02-11 plus `offset` days, as pandas' DatetimeIndex gives them. */
function calendar(offset) {
  const date = new Date(Date.UTC(2022, 1, 11 + offset));
  const day = date.getUTCDate();
  const month = date.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), month, 0)).getUTCDate();
  const dayOfWeek = (date.getUTCDay() + 6) % 7;
  const monthStart = day === 1 ? 1 : 0;
  const monthEnd = day === lastDay ? 1 : 0;
  return {
    day,
    month,
    quarter: Math.floor((month - 1) / 3) + 1,
    year: date.getUTCFullYear(),
    day_of_week: dayOfWeek,
    is_month_start: monthStart,
    is_month_end: monthEnd,
    is_quarter_start: monthStart && month % 3 === 1 ? 1 : 0,
    is_quarter_end: monthEnd && month % 3 === 0 ? 1 : 0,
    is_year_start: monthStart && month === 1 ? 1 : 0,
    is_year_end: monthEnd && month === 12 ? 1 : 0,
    is_weekend: dayOfWeek >= 5 ? 1 : 0,
  };
}

/**
 * The synthetic table as a Frame: `id`, the 29 features and `duration_time`, one Float64Array
 * per column. `n` and `seed` default to the peers' 45,593 rows and seed 2024.
 *
 * @example
 * const frame = makeDeliveryData({ n: 1000 });
 * frame.numeric("duration_time"); // minutes, 10 to 54
 */
export function makeDeliveryData({ n = 45_593, seed = 2024 } = {}) {
  const draw = streams(seed);
  const column = () => new Float64Array(n);
  const c = Object.fromEntries(
    ["id", ...FEATURES, "duration_time"].map((name) => [name, column()]),
  );

  // Same order of draws as make_data: location, date, then the other columns, then noise.
  const cityCode = draw.integers(0, 22);
  const restaurantLat = draw.uniform(-0.05, 0.05);
  const restaurantLon = draw.uniform(-0.05, 0.05);
  const deliveryLat = draw.uniform(-0.12, 0.12);
  const deliveryLon = draw.uniform(-0.12, 0.12);
  const dayOffset = draw.integers(0, 55);
  const age = draw.integers(20, 40);
  const ratings = draw.uniform(2.5, 5.0);
  const weather = draw.integers(0, 6);
  const traffic = draw.integers(0, 4);
  const vehicleCondition = draw.integers(0, 3);
  const orderType = draw.integers(0, 4);
  const vehicleType = draw.integers(0, 4);
  const multiple = draw.integers(0, 4);
  const festival = draw.uniform(0, 1);
  const city = draw.integers(0, 3);
  const prepare = draw.integers(0, 3);
  const noise = draw.normal(0, 3);

  for (let i = 0; i < n; i++) {
    const code = cityCode(i);
    const rlat = 12.0 + code * 0.8 + restaurantLat(i);
    const rlon = 72.0 + code * 0.7 + restaurantLon(i);
    const dlat = rlat + deliveryLat(i);
    const dlon = rlon + deliveryLon(i);
    const distance = haversineKm(rlat, rlon, dlat, dlon);
    const row = {
      id: i,
      delivery_person_age: age(i),
      delivery_person_ratings: Math.round(ratings(i) * 10) / 10,
      restaurant_latitude: rlat,
      restaurant_longitude: rlon,
      delivery_location_latitude: dlat,
      delivery_location_longitude: dlon,
      weather_conditions: weather(i),
      road_traffic_density: traffic(i),
      vehicle_condition: vehicleCondition(i),
      type_of_order: orderType(i),
      type_of_vehicle: vehicleType(i),
      multiple_deliveries: multiple(i),
      festival: festival(i) < 0.02 ? 1 : 0,
      city: city(i),
      city_code: code,
      ...calendar(dayOffset(i)),
      order_prepare_time: [5.0, 10.0, 15.0][prepare(i)],
      distance,
    };
    const minutes =
      10 +
      1.2 * distance +
      3 * row.road_traffic_density +
      2 * row.weather_conditions +
      4 * row.multiple_deliveries +
      8 * row.festival -
      2 * (row.delivery_person_ratings - 4) +
      0.2 * (row.delivery_person_age - 30) +
      0.5 * row.order_prepare_time +
      3 * (row.vehicle_condition === 0 ? 1 : 0) +
      noise(i);
    row.duration_time = Math.min(54, Math.max(10, minutes));
    for (const name in row) c[name][i] = row[name];
  }

  const kinds = deliverySchema.fields;
  return new Frame(
    Object.entries(c).map(([name, values]) => [
      name,
      { kind: name === "id" ? "integer" : kinds[name].kind, values },
    ]),
    n,
  );
}
