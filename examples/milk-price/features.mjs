// Seed 004's data steps, done with schemas: read the three raw files, parse Banco Central's
// dotted numbers and the Spanish month names, merge by month, lag by one month, and build the
// 3-month rolling means and standard deviations the seed's model reads.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Frame, field, numericColumn, readFrame, schema } from "@mlops/core";

export const PIB_COLUMNS = [
  "PIB_Agropecuario_silvicola",
  "PIB_Pesca",
  "PIB_Mineria",
  "PIB_Mineria_del_cobre",
  "PIB_Otras_actividades_mineras",
  "PIB_Industria_Manufacturera",
  "PIB_Alimentos",
  "PIB_Bebidas_y_tabaco",
  "PIB_Textil",
  "PIB_Maderas_y_muebles",
  "PIB_Celulosa",
  "PIB_Refinacion_de_petroleo",
  "PIB_Quimica",
  "PIB_Minerales_no_metalicos_y_metalica_basica",
  "PIB_Productos_metalicos",
  "PIB_Electricidad",
  "PIB_Construccion",
  "PIB_Comercio",
  "PIB_Restaurantes_y_hoteles",
  "PIB_Transporte",
  "PIB_Comunicaciones",
  "PIB_Servicios_financieros",
  "PIB_Servicios_empresariales",
  "PIB_Servicios_de_vivienda",
  "PIB_Servicios_personales",
  "PIB_Administracion_publica",
  "PIB_a_costo_de_factores",
  "PIB",
];
export const INDEX_COLUMNS = [
  "Imacec_empalmado",
  "Imacec_produccion_de_bienes",
  "Imacec_minero",
  "Imacec_industria",
  "Imacec_resto_de_bienes",
  "Imacec_comercio",
  "Imacec_servicios",
  "Imacec_a_costo_de_factores",
  "Imacec_no_minero",
  "Indice_de_ventas_comercio_real_no_durables_IVCM",
];
export const RAIN_COLUMNS = [
  "Coquimbo",
  "Valparaiso",
  "Metropolitana_de_Santiago",
  "Libertador_Gral__Bernardo_O_Higgins",
  "Maule",
  "Biobio",
  "La_Araucania",
  "Los_Rios",
];
export const BANK_COLUMNS = [...PIB_COLUMNS, ...INDEX_COLUMNS];
/** The monthly series of the merged table, in the seed's order (MERGE_COLS less the period). */
export const SERIES = ["Precio_leche", ...RAIN_COLUMNS, ...BANK_COLUMNS];
/** The 141 features, in the seed's order (TAKE_VARS): 47 means, 47 standard deviations, 47 values. */
export const FEATURES = [
  ...SERIES.map((name) => `${name}_rolling3_mean`),
  ...SERIES.map((name) => `${name}_rolling3_std`),
  ...SERIES,
];
export const TARGET = "target";

/** Spanish month abbreviations as precio_leche.csv spells them. */
export const MONTHS = [
  "Ene",
  "Feb",
  "Mar",
  "Abr",
  "May",
  "Jun",
  "Jul",
  "Ago",
  "Sep",
  "Oct",
  "Nov",
  "Dic",
];

// ------------------------------------------------------------------ schemas, one per table

const number = () => field.number();
const period = {
  anio: field.integer({ min: 1900, max: 2100 }),
  mes: field.integer({ min: 1, max: 12 }),
};

/** precio_leche.csv as it comes: year, Spanish month, price (CLP per litre, positive). */
export const rawMilkSchema = schema({
  Anio: field.integer({ min: 1900, max: 2100 }),
  Mes: field.category(MONTHS),
  Precio_leche: field.number({ min: 0 }),
});

/** precipitaciones.csv: a date (checked when parsed) and eight regions' rainfall in mm (≥ 0). */
export const rawRainSchema = schema(
  Object.fromEntries(RAIN_COLUMNS.map((name) => [name, field.number({ min: 0 })])),
  { unknownKeys: "strip" },
);

/** The merged monthly table: period, this month's price as target, last month's series. */
export const mergedSchema = schema(
  {
    ...period,
    ...Object.fromEntries(RAIN_COLUMNS.map((name) => [name, field.number({ min: 0 })])),
    Precio_leche: field.number({ min: 0 }),
    ...Object.fromEntries(BANK_COLUMNS.map((name) => [name, field.number({ min: 0 })])),
    target: field.number({ min: 0 }),
  },
  { target: "target" },
);

/** The model's features (a standard deviation may be 0; nothing may be missing). */
export const featureSchema = schema(
  {
    ...Object.fromEntries(
      FEATURES.map((name) => [name, name.endsWith("_std") ? field.number({ min: 0 }) : number()]),
    ),
    target: field.number({ min: 0 }),
  },
  { target: "target" },
);

// ------------------------------------------------------------------ parsing

/**
 * Banco Central's numbers lost their decimal point and gained thousands dots: Imacec 102.796218
 * is written "102.796.218", 105.1861 "1.051.861", 99.4693267 "994.693.267", and a trailing
 * zero is dropped ("6.795.359" next to "637.721.806"). The digits are right; the magnitude is
 * not written. So each value's digits are read as a mantissa in [0.1, 1), and each value gets
 * the power of ten (within one of the series' typical one) that puts it closest to the series'
 * median, then the series is scaled so its median lies in [100, 1000): an index near 100 reads
 * as one. Seed 004 instead read PIB columns as integers of all their digits (so "6.795.359"
 * became 100 times smaller than its neighbours) and Imacec by the first digit.
 *
 * `reference` (the median mantissa and scale of each series, from `bankReference`) makes the
 * parse of a few new values (the online route's three months) match the training data's.
 */
export function parseDotted(text, reference) {
  if (typeof text === "number") return text;
  const trimmed = typeof text === "string" ? text.trim() : "";
  // A few cells carry a real decimal point ("1358.56"): their digits are read the same way.
  if (!/^\d+(\.\d+)*$/.test(trimmed)) return Number.NaN;
  const digits = trimmed.replaceAll(".", "").replace(/^0+/, "");
  if (digits === "") return 0;
  const mantissa = Number(`0.${digits}`);
  if (!reference) return mantissa;
  let best = mantissa;
  for (const shift of [0.1, 10]) {
    const candidate = mantissa * shift;
    if (
      Math.abs(Math.log10(candidate / reference.median)) <
      Math.abs(Math.log10(best / reference.median))
    ) {
      best = candidate;
    }
  }
  return best * reference.scale;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Per bank series: the median mantissa and the scale that puts the median in [100, 1000). */
export function bankReference(rows) {
  const reference = {};
  for (const name of BANK_COLUMNS) {
    const mantissas = rows.map((row) => parseDotted(row[name])).filter((value) => value > 0);
    const center = median(mantissas);
    const aligned = rows.map((row) => parseDotted(row[name], { median: center, scale: 1 }));
    const typical = median(aligned.filter((value) => value > 0));
    reference[name] = { median: center, scale: 10 ** (2 - Math.floor(Math.log10(typical))) };
  }
  return reference;
}

/** "2013-03-01 00:00:00 UTC" or "2013-03-01" → { anio, mes }; undefined when not a date. */
function yearMonth(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(text ?? ""));
  if (!match) return undefined;
  const mes = Number(match[2]);
  if (mes < 1 || mes > 12) return undefined;
  return { anio: Number(match[1]), mes };
}

/** A key for a month. */
const key = (anio, mes) => anio * 100 + mes;

/**
 * Reads the three raw files into per-month records, validating them: precio_leche.csv with its
 * schema (Spanish months included), precipitaciones.csv's rainfall with its schema, and every
 * banco_central.csv value through the dotted-number parser. Rows the seed drops are dropped the
 * same way, and counted: bank rows with a date that does not parse, duplicated months (the first
 * kept) and months with a missing value.
 */
export async function readRaw(folder) {
  const milk = await readFrame(join(folder, "precio_leche.csv"), { schema: rawMilkSchema });
  const rain = await readFrame(join(folder, "precipitaciones.csv"), {
    schema: rawRainSchema,
    keepUnknownColumns: true,
  });
  const bankText = await readFile(join(folder, "banco_central.csv"), "utf8");
  const bankRows = parseCsvText(bankText);
  const report = { bankRows: bankRows.length, badDates: 0, duplicates: 0, incomplete: 0 };

  const milkByMonth = new Map();
  const anios = milk.numeric("Anio");
  const prices = milk.numeric("Precio_leche");
  for (let i = 0; i < milk.rowCount; i++) {
    const mes = MONTHS.indexOf(milk.get(i, "Mes")) + 1;
    milkByMonth.set(key(anios[i], mes), prices[i]);
  }
  const rainByMonth = new Map();
  for (let i = 0; i < rain.rowCount; i++) {
    const when = yearMonth(rain.get(i, "date"));
    if (!when)
      throw new Error(
        `precipitaciones.csv:${i + 2}: date ${rain.get(i, "date")} is not YYYY-MM-DD`,
      );
    rainByMonth.set(
      key(when.anio, when.mes),
      Object.fromEntries(RAIN_COLUMNS.map((name) => [name, rain.numeric(name)[i]])),
    );
  }
  const complete = [];
  const seen = new Set();
  for (const row of bankRows) {
    const when = yearMonth(row.Periodo);
    if (!when) {
      report.badDates++;
      continue;
    }
    const month = key(when.anio, when.mes);
    if (seen.has(month)) {
      report.duplicates++;
      continue;
    }
    seen.add(month);
    // A month with a missing or unreadable value ("a") is dropped, as the seed's dropna does.
    if (BANK_COLUMNS.some((name) => Number.isNaN(parseDotted(row[name] ?? "")))) {
      report.incomplete++;
      continue;
    }
    complete.push({ ...row, ...when });
  }
  const reference = bankReference(complete);
  const bankByMonth = new Map();
  for (const row of complete) {
    bankByMonth.set(
      key(row.anio, row.mes),
      Object.fromEntries(
        BANK_COLUMNS.map((name) => [name, parseDotted(row[name], reference[name])]),
      ),
    );
  }
  return {
    milkByMonth,
    rainByMonth,
    bankByMonth,
    reference,
    report,
    milkRows: milk.rowCount,
    rainRows: rain.rowCount,
  };
}

/** A small RFC 4180 reader for banco_central.csv, whose cells stay text (dotted numbers). */
function parseCsvText(text) {
  const lines = text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .filter((line) => line !== "");
  const header = lines[0].split(",");
  return lines.slice(1).map((line, index) => {
    const cells = line.split(",");
    if (cells.length !== header.length) {
      throw new Error(
        `banco_central.csv:${index + 2}: ${cells.length} cells, expected ${header.length}`,
      );
    }
    return Object.fromEntries(header.map((name, i) => [name, cells[i]]));
  });
}

/**
 * The seed's merge: months present in all three sources, in time order; `target` is this
 * month's milk price and every series is last month's (lagged by one); the first month, which
 * has no previous one, is dropped. Validated with `mergedSchema`.
 */
export function mergeMonths(raw) {
  const months = [...raw.milkByMonth.keys()]
    .filter((month) => raw.rainByMonth.has(month) && raw.bankByMonth.has(month))
    .sort((a, b) => a - b);
  const rows = [];
  for (let i = 1; i < months.length; i++) {
    const previous = months[i - 1];
    rows.push({
      anio: Math.floor(previous / 100),
      mes: previous % 100,
      Precio_leche: raw.milkByMonth.get(previous),
      ...raw.rainByMonth.get(previous),
      ...raw.bankByMonth.get(previous),
      target: raw.milkByMonth.get(months[i]),
    });
  }
  return mergedSchema.toFrame(rows);
}

/**
 * The seed's features: for each series, the mean and the standard deviation (n − 1) of the
 * last three months (fewer at the start), then the series itself; rows where a standard
 * deviation is undefined (the first) are dropped. `Periodo` ("2014-2") names each row's month:
 * the month the series come from, as the seed's feature store has it.
 */
export function buildFeatures(merged) {
  const n = merged.rowCount;
  const columns = {};
  for (const name of SERIES) {
    const values = merged.numeric(name);
    const mean = new Float64Array(n);
    const std = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const window = [];
      for (let j = Math.max(0, i - 2); j <= i; j++) window.push(values[j]);
      const average = window.reduce((a, b) => a + b, 0) / window.length;
      mean[i] = average;
      std[i] =
        window.length < 2
          ? Number.NaN
          : Math.sqrt(window.reduce((a, b) => a + (b - average) ** 2, 0) / (window.length - 1));
    }
    columns[`${name}_rolling3_mean`] = mean;
    columns[`${name}_rolling3_std`] = std;
  }
  const keep = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(columns.Precio_leche_rolling3_std[i])) keep.push(i);
  const anio = merged.numeric("anio");
  const mes = merged.numeric("mes");
  const entries = [
    [
      "Periodo",
      {
        kind: "category",
        codes: Int32Array.from(keep, (_, i) => i),
        dictionary: keep.map((i) => `${anio[i]}-${mes[i]}`),
      },
    ],
  ];
  for (const name of FEATURES) {
    const source = columns[name] ?? merged.numeric(name);
    entries.push([name, numericColumn(keep.map((i) => source[i]))]);
  }
  entries.push([TARGET, numericColumn(keep.map((i) => merged.numeric(TARGET)[i]))]);
  const frame = new Frame(entries);
  // Every feature row is checked against the feature schema (throws a SchemaError naming the
  // row and column); Periodo rides along.
  featureSchema.conformFrame(frame.drop(["Periodo"]));
  return frame;
}

/**
 * The online route's features from three consecutive months of raw series (the seed's request:
 * `{"data": {column: [v1, v2, v3]}}`, bank columns as dotted strings): the row for the last month.
 */
export function onlineFeatures(data, reference) {
  const row = {};
  for (const name of SERIES) {
    const values = data[name];
    if (!Array.isArray(values) || values.length !== 3) {
      throw new Error(
        `data.${name}: expected the values of three consecutive months, got ${JSON.stringify(values)}`,
      );
    }
    const numbers = values.map((value, i) => {
      const parsed = BANK_COLUMNS.includes(name) ? parseDotted(value, reference[name]) : value;
      if (typeof parsed !== "number" || !Number.isFinite(parsed)) {
        throw new Error(`data.${name}[${i}]: expected a number, got ${JSON.stringify(value)}`);
      }
      return parsed;
    });
    const average = (numbers[0] + numbers[1] + numbers[2]) / 3;
    row[`${name}_rolling3_mean`] = average;
    row[`${name}_rolling3_std`] = Math.sqrt(
      numbers.reduce((a, b) => a + (b - average) ** 2, 0) / 2,
    );
    row[name] = numbers[2];
  }
  return row;
}
