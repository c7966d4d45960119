// A pool thread of bench/xgboost.mjs: keeps each side's predictor (this checkout's and, with
// --baseline, another checkout's build) and the shared columns, and predicts a range of rows on
// request into a shared output array. Answers with the thread's own CPU seconds for the predict.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const sides = new Map();
let columns;
let names;

/** This thread's CPU seconds (user + system) from /proc/thread-self/stat; NaN where absent. */
function threadCpuSeconds() {
  try {
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of proc(5) (utime, stime), in clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export async function onMessage(message) {
  if (message.type === "load") {
    columns = message.columns;
    names = message.names;
    for (const side of message.sides) {
      const core = await import(pathToFileURL(side.dist).href);
      const predictor = core.createPredictor(core.decodeArtifact(new Uint8Array(side.artifact)));
      sides.set(side.name, { core, predictor });
    }
    return null;
  }
  const { start, end, output } = message;
  const { core, predictor } = sides.get(message.side);
  const frame = new core.Frame(
    names.map((name, j) => [name, { kind: "number", values: columns[j].subarray(start, end) }]),
  );
  const before = threadCpuSeconds();
  const predictions = predictor.predict(frame);
  const cpu = threadCpuSeconds() - before;
  output.set(predictions, start);
  return { cpu };
}
