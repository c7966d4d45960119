// The batch-scoring worker thread (built to dist/batch-worker.js): compiles the model once from
// the artifact bytes it is sent, then scores every batch posted to it.
import { parentPort } from "node:worker_threads";
import type { Predictor } from "@mlops/core";
import { type BatchTask, loadPredictor, scoreTask } from "./scorer.js";

/** Messages to a batch worker. */
export type BatchWorkerRequest =
  | { type: "init"; artifact: Uint8Array; source: string }
  | { type: "task"; task: BatchTask };

/** Messages from a batch worker. */
export type BatchWorkerResponse =
  | { type: "ready" }
  | { type: "result"; result: import("./scorer.js").BatchResult }
  | { type: "error"; id: number | undefined; code: string | undefined; message: string };

let predictor: Predictor | undefined;

parentPort?.on("message", (message: BatchWorkerRequest) => {
  try {
    if (message.type === "init") {
      predictor = loadPredictor(message.artifact, message.source);
      parentPort!.postMessage({ type: "ready" } satisfies BatchWorkerResponse);
      return;
    }
    const result = scoreTask(predictor!, message.task);
    const transfer: ArrayBuffer[] = [];
    if (result.bytes) transfer.push(result.bytes.buffer as ArrayBuffer);
    parentPort!.postMessage({ type: "result", result } satisfies BatchWorkerResponse, transfer);
  } catch (error) {
    parentPort!.postMessage({
      type: "error",
      id: message.type === "task" ? message.task.id : undefined,
      code:
        typeof (error as { code?: unknown })?.code === "string"
          ? (error as { code: string }).code
          : undefined,
      message: error instanceof Error ? error.message : String(error),
    } satisfies BatchWorkerResponse);
  }
});
