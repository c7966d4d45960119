// The portable friedman_hash generator of the peer benchmarks (../shared/peers/friedman_hash.mjs,
// described in ../shared/peers/README.md), in one place for every bench script: a counter hash
// using only + - * on float64, so X and y are bit-identical to the Python side's peerdata.py.

/** murmur3's 32-bit finaliser. */
export function fmix32(h) {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The i-th uniform [0, 1) value of stream `seed`. */
export function uniformHash(seed, i) {
  const base = (Math.imul(seed, 0x85ebca77) + 0x165667b1) >>> 0;
  const k = (Math.imul(i >>> 0, 0x9e3779b9) + base) >>> 0;
  return fmix32(k) / 4294967296;
}

/** friedman_hash(n, p, seed) as columns x0..x{p-1} (Float64Array each) and the target y. */
export function friedmanColumns(n, p, seed) {
  const columns = Array.from({ length: p }, () => new Float64Array(n));
  const y = new Float64Array(n);
  const row = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < p; j++) {
      row[j] = uniformHash(seed, r * (p + 1) + j);
      columns[j][r] = row[j];
    }
    const e = uniformHash(seed, r * (p + 1) + p);
    const t = row[0] * row[1];
    const d = row[2] - 0.5;
    y[r] = 40 * t * (1 - t) + 20 * d * d + 10 * row[3] + 5 * row[4] + 2 * (e - 0.5);
  }
  return { columns, y };
}
