/**
 * The partition kernel of the grower: a stable partition of a node's rows (in node order) into
 * the left child's rows, moved down in place, and the right child's, moved through scratch
 * buffers to the end. Each row carries its codes (`rowStride / 4` 32-bit words), its gradient,
 * its hessian (when not constant) and its training index; gradients and hessians move as their
 * 32-bit patterns.
 */

/** The node-order arrays a partition moves, and their scratch twins. */
export interface PartitionBuffers {
  codes: Uint8Array;
  words: Int32Array;
  gradient: Int32Array;
  hessian: Int32Array | undefined;
  index: Int32Array;
  scratchWords: Int32Array;
  scratchGradient: Int32Array;
  scratchHessian: Int32Array | undefined;
  scratchIndex: Int32Array;
}

/**
 * Partitions rows `start..end` on feature `f`: left when `code <= threshold` or
 * `code === missing` (a bin past 255 when missing values go right), or, with `bitset`, when
 * the code's bit is set. Returns how many rows go left.
 */
export type PartitionKernel = (
  buffers: PartitionBuffers,
  start: number,
  end: number,
  f: number,
  threshold: number,
  missing: number,
  bitset: Uint32Array | undefined,
) => number;

const kernels = new Map<string, PartitionKernel>();

/**
 * The partition kernel for rows of `rowStride` bytes, generated once per shape: the words of a
 * row are copied with constant offsets, and the side is computed without a branch (a row is
 * written to both places and the counters move by its side), which the 50/50 splits of a tree
 * would otherwise mispredict half the time.
 */
export function partitionKernel(rowStride: number, withHessian: boolean): PartitionKernel {
  const key = `${rowStride}:${withHessian}`;
  let kernel = kernels.get(key);
  if (kernel !== undefined) return kernel;
  // Every value spliced in below is an integer computed here: the source holds no user input.
  const width = rowStride >> 2;
  const load: string[] = [];
  const store: string[] = [];
  for (let w = 0; w < width; w++) {
    load.push(`const w${w} = words[from + ${w}];`);
    store.push(`words[down + ${w}] = w${w}; scratchWords[aside + ${w}] = w${w};`);
  }
  const move = `
        const from = k * ${width};
        const down = l * ${width};
        const aside = r * ${width};
        ${load.join(" ")}
        ${store.join(" ")}
        const g = gradient[k]; gradient[l] = g; scratchGradient[r] = g;
        const i = index[k]; index[l] = i; scratchIndex[r] = i;
        ${withHessian ? "const h = hessian[k]; hessian[l] = h; scratchHessian[r] = h;" : ""}
        l += 1 - right;
        r += right;`;
  const source = `"use strict";
    const { codes, words, gradient, hessian, index } = buffers;
    const { scratchWords, scratchGradient, scratchHessian, scratchIndex } = buffers;
    let l = start;
    let r = 0;
    if (bitset === undefined) {
      for (let k = start; k < end; k++) {
        const code = codes[k * ${rowStride} + f];
        // 1 when code > threshold (the sign of threshold − code), unless it is the missing bin.
        const right = ((threshold - code) >>> 31) & (((code ^ missing) - 1) >>> 31 ^ 1);
        ${move}
      }
    } else {
      for (let k = start; k < end; k++) {
        const code = codes[k * ${rowStride} + f];
        const right = ((bitset[code >> 5] >>> (code & 31)) & 1) ^ 1;
        ${move}
      }
    }
    words.set(scratchWords.subarray(0, r * ${width}), l * ${width});
    gradient.set(scratchGradient.subarray(0, r), l);
    index.set(scratchIndex.subarray(0, r), l);
    ${withHessian ? "hessian.set(scratchHessian.subarray(0, r), l);" : ""}
    return l - start;`;
  kernel = new Function(
    "buffers",
    "start",
    "end",
    "f",
    "threshold",
    "missing",
    "bitset",
    source,
  ) as PartitionKernel;
  kernels.set(key, kernel);
  return kernel;
}
