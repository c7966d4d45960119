// The batch-scoring worker module (built to dist/batch-worker.js), run by core's ThreadPool:
// compiles the model once from the artifact bytes it is sent, then scores every batch posted to
// it, moving the encoded output back instead of copying it.
import { type Predictor, transferResult } from "@mlops/core/internal/scoring";
import { type BatchResult, loadPredictor, runTask, type ScoringTask, warmUpCsv } from "./scorer.js";

/** Messages to a batch worker. */
export type BatchWorkerRequest =
  | { type: "init"; artifact: Uint8Array; source: string }
  | { type: "task"; task: ScoringTask };

let predictor: Predictor | undefined;
let warm = false;

/** The pool's handler: `init` answers `true` once the model is compiled; `task` its result. */
export async function onMessage(message: BatchWorkerRequest): Promise<BatchResult | true> {
  if (message.type === "init") {
    predictor = loadPredictor(message.artifact, message.source);
    return true;
  }
  if (predictor === undefined) throw new Error("the batch worker got a task before its model");
  if (!warm && message.task.kind === "csv") await warmUpCsv(predictor, message.task);
  warm = true;
  const result = await runTask(predictor, message.task);
  const bytes = result.bytes ?? result.parquet?.bytes;
  // Bytes in a shared buffer (a CSV chunk's output) are read there, not moved.
  if (!bytes || bytes.buffer instanceof SharedArrayBuffer) return result;
  return transferResult(result, [bytes.buffer as ArrayBuffer]);
}
