/**
 * The histogram kernels of histogram gradient boosting, shared by the grower (calling thread)
 * and the worker threads. A histogram holds, per feature and bin, the sum of gradients, the sum
 * of hessians and the row count: `histogram[(f * bins + b) * 3 + {0, 1, 2}]`. Each bin is summed
 * in row order (the order of the node's rows in the partition), whatever the thread that builds
 * it, so a model does not depend on the number of threads.
 */

/** Doubles per bin: gradient sum, hessian sum, count. */
export const BIN_STRIDE = 3;

/**
 * Adds the rows `rows[start..end)` (or `start..end` themselves when `rows` is undefined) of
 * features `f0..f1` into `histogram` (zeroed by the caller for those features). `hessian`
 * undefined: constant hessians, whose sums are the counts.
 */
export function buildHistogram(
  codes: Uint8Array,
  featureCount: number,
  bins: number,
  rows: Int32Array | undefined,
  start: number,
  end: number,
  gradient: Float32Array,
  hessian: Float32Array | undefined,
  histogram: Float64Array,
  f0: number,
  f1: number,
): void {
  const featureStride = bins * BIN_STRIDE;
  const width = f1 - f0;
  if (hessian === undefined) {
    if (rows === undefined) {
      for (let row = start; row < end; row++) {
        const g = gradient[row];
        let at = row * featureCount + f0;
        let base = f0 * featureStride;
        for (let j = 0; j < width; j++, at++, base += featureStride) {
          const slot = base + codes[at] * BIN_STRIDE;
          histogram[slot] += g;
          histogram[slot + 2] += 1;
        }
      }
      return;
    }
    for (let k = start; k < end; k++) {
      const row = rows[k];
      const g = gradient[row];
      let at = row * featureCount + f0;
      let base = f0 * featureStride;
      for (let j = 0; j < width; j++, at++, base += featureStride) {
        const slot = base + codes[at] * BIN_STRIDE;
        histogram[slot] += g;
        histogram[slot + 2] += 1;
      }
    }
    return;
  }
  for (let k = start; k < end; k++) {
    const row = rows === undefined ? k : rows[k];
    const g = gradient[row];
    const h = hessian[row];
    let at = row * featureCount + f0;
    let base = f0 * featureStride;
    for (let j = 0; j < width; j++, at++, base += featureStride) {
      const slot = base + codes[at] * BIN_STRIDE;
      histogram[slot] += g;
      histogram[slot + 1] += h;
      histogram[slot + 2] += 1;
    }
  }
}

/** `target[f…] = parent[f…] − child[f…]` for features `f0..f1` (the sibling's histogram). */
export function subtractHistogram(
  parent: Float64Array,
  child: Float64Array,
  target: Float64Array,
  bins: number,
  f0: number,
  f1: number,
): void {
  const featureStride = bins * BIN_STRIDE;
  for (let i = f0 * featureStride, end = f1 * featureStride; i < end; i++) {
    target[i] = parent[i] - child[i];
  }
}
