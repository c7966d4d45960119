/**
 * scikit-learn's tree random numbers, reproduced so that `seed` means what `random_state` means
 * there: the splitter's state is `RandomState(seed).randint(0, RAND_R_MAX)` (numpy's MT19937,
 * first 32-bit output masked to 31 bits), then `rand_int(low, high)` is a 32-bit xorshift
 * (`our_rand_r`) modulo the range. Same seed, same feature draws, same ties broken.
 */

const RAND_R_MAX = 0x7fffffff;

/** The first outputs of MT19937 seeded like `numpy.random.RandomState(seed)`. */
function mt19937(seed: number): () => number {
  const state = new Uint32Array(624);
  state[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) {
    const previous = state[i - 1] ^ (state[i - 1] >>> 30);
    // 1812433253 × previous + i, modulo 2^32, in two 16-bit halves to stay exact.
    state[i] =
      (((((previous & 0xffff0000) >>> 16) * 1812433253) << 16) +
        (previous & 0x0000ffff) * 1812433253 +
        i) >>>
      0;
  }
  let index = 624;
  return () => {
    if (index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (state[k] & 0x80000000) | (state[(k + 1) % 624] & 0x7fffffff);
        state[k] = state[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      index = 0;
    }
    let y = state[index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
}

/**
 * `numpy.random.RandomState(seed).randint(0, RAND_R_MAX)`: the splitter's initial state.
 *
 * @example
 * sklearnRandomState(0); // 209652396, as numpy gives
 */
export function sklearnRandomState(seed: number): number {
  const next = mt19937(seed);
  for (;;) {
    // numpy's masked bounded integers: mask to 31 bits, reject values above the range.
    const value = next() & RAND_R_MAX;
    if (value <= RAND_R_MAX - 1) return value;
  }
}

/**
 * scikit-learn's `rand_int(low, high, &state)` over its `our_rand_r` xorshift.
 *
 * @example
 * const random = new SklearnRandom(0);
 * random.int(0, 10); // the feature index scikit-learn draws first with random_state=0
 */
export class SklearnRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = sklearnRandomState(seed) >>> 0;
  }

  /** An integer in [low, high). */
  int(low: number, high: number): number {
    let s = this.#state;
    if (s === 0) s = 1;
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    this.#state = s;
    return low + ((s % (RAND_R_MAX + 1)) % (high - low));
  }
}
