// Builds data/wine.csv (header + `color` column) from the unchanged UCI files in data/raw/.
// Run once: `node prepare-data.mjs`; the output is committed so the example needs no network.
import { readFileSync, writeFileSync } from "node:fs";

const header = [
  "fixed_acidity",
  "volatile_acidity",
  "citric_acid",
  "residual_sugar",
  "chlorides",
  "free_sulfur_dioxide",
  "total_sulfur_dioxide",
  "density",
  "pH",
  "sulphates",
  "alcohol",
  "color",
  "quality",
];
const lines = [header.join(",")];
for (const color of ["red", "white"]) {
  const text = readFileSync(
    new URL(`./data/raw/winequality-${color}.csv`, import.meta.url),
    "utf8",
  );
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const cells = line.split(",");
    const quality = cells.pop();
    lines.push([...cells, color, quality].join(","));
  }
}
writeFileSync(new URL("./data/wine.csv", import.meta.url), `${lines.join("\n")}\n`);
console.log(`data/wine.csv: ${lines.length - 1} rows`);
