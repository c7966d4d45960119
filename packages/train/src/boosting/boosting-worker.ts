/**
 * The worker-thread entry of `HistGradientBoostingRegressor` (built to
 * `dist/boosting-worker.js`, run by core's `ThreadPool`): a probe checks that it loads, then each
 * fit posts its shared arrays and the thread builds its features of every histogram until the fit
 * ends. Not part of the public API.
 */
export { onBoostingMessage } from "./threads.js";
