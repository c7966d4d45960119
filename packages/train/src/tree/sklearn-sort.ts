/**
 * scikit-learn's node sort (introsort: median-of-three pivot, three-way partition, heapsort past
 * a depth of 2·⌊log2 n⌋, its `_utils.log` being base 2), reproduced to know the order in which
 * it leaves rows with equal values: that order decides the order of its sums, hence the last
 * bits of leaf values. Sorts `keys[0..n)` and `rows[0..n)` together.
 */
export function sklearnSort(keys: Float32Array, rows: Int32Array, n: number): void {
  if (n === 0) return;
  introsort(keys, rows, 0, n, 2 * Math.floor(Math.log(n) / Math.log(2)));
}

function swap(keys: Float32Array, rows: Int32Array, i: number, j: number): void {
  const key = keys[i];
  keys[i] = keys[j];
  keys[j] = key;
  const row = rows[i];
  rows[i] = rows[j];
  rows[j] = row;
}

function median3(keys: Float32Array, at: number, n: number): number {
  const a = keys[at];
  const b = keys[at + Math.floor(n / 2)];
  const c = keys[at + n - 1];
  // Comparisons exactly as scikit-learn's (Math.min/max would differ for NaN).
  if (a < b) {
    if (b < c) return b;
    // biome-ignore lint/complexity/useMathMinMax: NaN must compare as in C
    return a < c ? c : a;
  }
  // biome-ignore lint/complexity/useMathMinMax: NaN must compare as in C
  if (b < c) return a < c ? a : c;
  return b;
}

function introsort(keys: Float32Array, rows: Int32Array, at: number, n: number, depth: number) {
  let maxDepth = depth;
  while (n > 1) {
    if (maxDepth <= 0) {
      heapsort(keys, rows, at, n);
      return;
    }
    maxDepth--;
    const pivot = median3(keys, at, n);
    let i = 0;
    let l = 0;
    let r = n;
    while (i < r) {
      const key = keys[at + i];
      if (key < pivot) {
        swap(keys, rows, at + i, at + l);
        i++;
        l++;
      } else if (key > pivot) {
        r--;
        swap(keys, rows, at + i, at + r);
      } else {
        i++;
      }
    }
    introsort(keys, rows, at, l, maxDepth);
    at += r;
    n -= r;
  }
}

function siftDown(keys: Float32Array, rows: Int32Array, at: number, start: number, end: number) {
  let root = start;
  for (;;) {
    const child = root * 2 + 1;
    let largest = root;
    if (child < end && keys[at + largest] < keys[at + child]) largest = child;
    if (child + 1 < end && keys[at + largest] < keys[at + child + 1]) largest = child + 1;
    if (largest === root) return;
    swap(keys, rows, at + root, at + largest);
    root = largest;
  }
}

function heapsort(keys: Float32Array, rows: Int32Array, at: number, n: number): void {
  let start = Math.floor((n - 2) / 2);
  for (;;) {
    siftDown(keys, rows, at, start, n);
    if (start === 0) break;
    start--;
  }
  for (let end = n - 1; end > 0; end--) {
    swap(keys, rows, at, at + end);
    siftDown(keys, rows, at, 0, end);
  }
}
