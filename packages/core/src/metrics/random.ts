import { MlopsError } from "../errors/error.js";

/** A seeded source of pseudo-random numbers (xoshiro128**). Not for cryptography. */
export interface Random {
  /** A float in [0, 1) with 53 random bits. */
  next(): number;
  /** An integer in [0, n), without modulo bias. `n` must be an integer in [1, 2^32]. */
  int(n: number): number;
  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number;
}

const twoPow32 = 4294967296;
const twoPow53 = 9007199254740992;

/** One step of splitmix32, used only to spread a seed over the four words of state. */
function splitmix32(state: Uint32Array): number {
  state[0] = (state[0] + 0x9e3779b9) >>> 0;
  let z = state[0];
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * Creates a seeded pseudo-random generator (xoshiro128**, seeded through splitmix32).
 * The same seed always gives the same sequence, on every platform.
 *
 * @param seed - any safe integer; negative seeds and seeds above 2^32 are distinct seeds.
 * @example
 * const random = createRandom(42);
 * random.next(); // a float in [0, 1)
 * random.int(10); // an integer in 0..9
 */
export function createRandom(seed = 0): Random {
  if (!Number.isSafeInteger(seed)) {
    throw new MlopsError("argument_invalid", `seed: expected a safe integer, got ${seed}`);
  }
  const low = seed >>> 0;
  const high = Math.floor(seed / twoPow32) >>> 0;
  const seeder = new Uint32Array([low]);
  const state = new Uint32Array(4);
  state[0] = splitmix32(seeder);
  state[1] = splitmix32(seeder) ^ high;
  state[2] = splitmix32(seeder);
  state[3] = splitmix32(seeder);
  // xoshiro must not start from the all-zero state; splitmix32 makes this near impossible.
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 0x9e3779b9;

  return randomFromState(state);
}

function rotateLeft(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/**
 * A generator over an explicit xoshiro128** state (four 32-bit words, not all zero), which it
 * advances in place. Prefer `createRandom(seed)`; this exists to check the reference vectors.
 *
 * @internal
 * @example
 * const random = randomFromState(new Uint32Array([1, 2, 3, 4]));
 * random.nextUint32(); // 11520, the first reference output
 */
export function randomFromState(state: Uint32Array): Random {
  const nextUint32 = (): number => {
    const s0 = state[0];
    const s1 = state[1];
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    state[2] ^= s0;
    state[3] ^= s1;
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotateLeft(state[3], 11);
    return result;
  };

  return {
    nextUint32,
    next(): number {
      const high27 = nextUint32() >>> 5;
      const low26 = nextUint32() >>> 6;
      return (high27 * 67108864 + low26) / twoPow53;
    },
    int(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > twoPow32) {
        throw new MlopsError(
          "argument_invalid",
          `n: expected an integer between 1 and 2^32, got ${n}`,
        );
      }
      // Rejection sampling: drop the top partial block of 2^32 so every residue is equally likely.
      const limit = twoPow32 - (twoPow32 % n);
      let value = nextUint32();
      while (value >= limit) value = nextUint32();
      return value % n;
    },
  };
}
