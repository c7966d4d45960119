// The worker module of bench/pool.mjs, the same for every pool: @mlops's ThreadPool calls
// `onMessage(payload)`, piscina and tinypool call the default export.

let broadcastData;

/** Sums `rows` values of the shared column from `start`, `passes` times (a trial's CPU work). */
function trial({ data, start, rows, passes }) {
  const values = data ?? broadcastData;
  let total = 0;
  for (let pass = 0; pass < passes; pass++) {
    for (let i = start; i < start + rows; i++) total += values[i] * (pass + 1);
  }
  return total;
}

export function onMessage(message) {
  if (message.type === "data") {
    broadcastData = message.data;
    return undefined;
  }
  if (message.type === "echo") return message.value;
  return trial(message);
}

export default onMessage;
