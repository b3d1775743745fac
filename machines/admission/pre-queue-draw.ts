/**
 * The pre-queue draw: at `opensAt`, everyone who arrived before it is placed in a uniformly random order.
 * The order is a pure function of a 128-bit seed (32 hex digits) the edge draws from a cryptographic source
 * and records, so a replay draws the same order. sfc32 (a small, fast counter-based generator that passes
 * PractRand) expands the seed; Fisher–Yates with rejection sampling makes every order equally likely.
 */

/** A seed is 32 lowercase hex digits (128 bits). */
export const drawSeedPattern = /^[0-9a-f]{32}$/;

/** A generator of uniform 32-bit unsigned integers from a seed. Throws RangeError on a malformed seed. */
export function seededUint32(seed: string): () => number {
  if (!drawSeedPattern.test(seed)) throw new RangeError(`draw seed must be 32 hex digits, got ${JSON.stringify(seed)}`);
  let a = parseInt(seed.slice(0, 8), 16) >>> 0;
  let b = parseInt(seed.slice(8, 16), 16) >>> 0;
  let c = parseInt(seed.slice(16, 24), 16) >>> 0;
  let d = parseInt(seed.slice(24, 32), 16) >>> 0;
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Mixing rounds, so that seeds that differ in few bits start far apart.
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** A uniform integer in [0, bound) from 32-bit draws, without modulo bias. */
function below(bound: number, next: () => number): number {
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
  for (;;) {
    const x = next();
    if (x < limit) return x % bound;
  }
}

/** Shuffles `items` in place into a uniformly random order drawn from `next`; returns them. O(n) */
export function shuffleInPlace<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = below(i + 1, next);
    const held = items[i]!;
    items[i] = items[j]!;
    items[j] = held;
  }
  return items;
}
