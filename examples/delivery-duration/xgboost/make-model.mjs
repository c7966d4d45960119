// Trains the example's XGBoost model with python3-xgboost (Debian, 1.7), as seed 000 does:
// writes the example's training rows (the first 80% of makeDeliveryData(), what main.mjs trains
// on) and the seed's request to a temporary folder, runs train_xgboost.py there, and keeps
// model.json (booster.save_model) and expected.json (xgboost's own predictions) here.
//
//   node examples/delivery-duration/xgboost/make-model.mjs
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFrame } from "@mlops/core";
import { FEATURES, makeDeliveryData } from "../data.mjs";

const here = new URL(".", import.meta.url).pathname;
const data = makeDeliveryData();
const cut = Math.floor(data.rowCount * 0.8);
const folder = await mkdtemp(join(tmpdir(), "mlops-delivery-xgboost-"));
try {
  await writeFrame(
    join(folder, "train.csv"),
    data.slice(0, cut).select([...FEATURES, "duration_time"]),
  );
  await writeFrame(
    join(folder, "holdout.csv"),
    data.slice(cut).select([...FEATURES, "duration_time"]),
  );
  const request = JSON.parse(await readFile(join(here, "..", "request.json"), "utf8"));
  const run = spawnSync(
    "/usr/bin/python3",
    [join(here, "train_xgboost.py"), folder, here, JSON.stringify(request)],
    { stdio: "inherit" },
  );
  if (run.status !== 0) throw new Error(`train_xgboost.py failed (exit ${run.status})`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
