/**
 * numpy's legacy `RandomState(seed)` (MT19937), the generator scikit-learn draws from, reproduced
 * for the few draws this package needs to mean what scikit-learn means by `random_state`:
 * bounded integers (`randint`, masked rejection on 32-bit outputs) and `standard_normal` (the
 * polar Box–Muller method with its cached second value).
 *
 * The tree kernel keeps its own copy of MT19937 (`tree/sklearn-random.ts`) for its single draw.
 */
export class NumpyRandomState {
  readonly #state = new Uint32Array(624);
  #index = 624;
  #hasGauss = false;
  #gauss = 0;

  constructor(seed: number) {
    const state = this.#state;
    state[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const previous = state[i - 1] ^ (state[i - 1] >>> 30);
      // 1812433253 × previous + i modulo 2^32, in 16-bit halves to stay exact in doubles.
      state[i] =
        (((((previous & 0xffff0000) >>> 16) * 1812433253) << 16) +
          (previous & 0x0000ffff) * 1812433253 +
          i) >>>
        0;
    }
  }

  /** The next raw 32-bit output. */
  nextUint32(): number {
    const state = this.#state;
    if (this.#index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (state[k] & 0x80000000) | (state[(k + 1) % 624] & 0x7fffffff);
        state[k] = state[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.#index = 0;
    }
    let y = state[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `randint(0, high)` for `1 <= high <= 2^32`: one integer in `[0, high)`. */
  randint(high: number): number {
    const range = high - 1;
    if (range === 0) return 0;
    if (range === 0xffffffff) return this.nextUint32();
    // The smallest all-ones mask covering `range`, then reject draws above it.
    let mask = range;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= range) return value;
    }
  }

  /** `random_sample()`: a double in `[0, 1)` from 53 random bits. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `standard_normal()`: numpy's legacy polar method, caching the second value of each pair. */
  standardNormal(): number {
    if (this.#hasGauss) {
      this.#hasGauss = false;
      return this.#gauss;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.#gauss = f * x1;
    this.#hasGauss = true;
    return f * x2;
  }
}
