import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
  FullJitterBackoff,
  fullJitterDelay,
} from '../../src/client/backoff.js';

/** A random source in [0, 1) drawn by fast-check. */
const unitInterval = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('fullJitterDelay', () => {
  it('defaults to base 1000 ms and cap 30000 ms', () => {
    expect(DEFAULT_BACKOFF_BASE_MS).toBe(1000);
    expect(DEFAULT_BACKOFF_CAP_MS).toBe(30_000);
    const nearlyOne = () => 0.999999;
    expect(fullJitterDelay(0, { random: nearlyOne })).toBe(999);
    expect(fullJitterDelay(3, { random: nearlyOne })).toBe(7999);
    expect(fullJitterDelay(40, { random: nearlyOne })).toBe(29_999);
  });

  it('is random(0, min(cap, base * 2^attempt)) for any attempt, bounds and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        unitInterval,
        (attempt, baseMs, capMs, r) => {
          const window = Math.min(capMs, baseMs * 2 ** attempt);
          const delay = fullJitterDelay(attempt, { baseMs, capMs, random: () => r });
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          if (window === 0) expect(delay).toBe(0);
          else expect(delay).toBeLessThan(window);
          // The draw decides where in the window the delay falls.
          expect(Math.abs(delay - r * window)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('uses the whole window: a draw of 0 waits 0, the top of the range waits almost the window', () => {
    expect(fullJitterDelay(2, { baseMs: 100, capMs: 10_000, random: () => 0 })).toBe(0);
    expect(fullJitterDelay(2, { baseMs: 100, capMs: 10_000, random: () => 0.5 })).toBe(200);
    expect(fullJitterDelay(2, { baseMs: 100, capMs: 10_000, random: () => 0.9999 })).toBe(399);
  });

  it('waits 0 with a zero base or cap, however many attempts failed', () => {
    expect(fullJitterDelay(5000, { baseMs: 0, random: () => 0.7 })).toBe(0);
    expect(fullJitterDelay(5000, { capMs: 0, random: () => 0.7 })).toBe(0);
  });

  it('keeps the delay inside the window even when the random source misbehaves', () => {
    expect(fullJitterDelay(0, { baseMs: 100, random: () => 1 })).toBe(99);
    expect(fullJitterDelay(0, { baseMs: 100, random: () => 7 })).toBe(99);
    expect(fullJitterDelay(0, { baseMs: 100, random: () => -3 })).toBe(0);
  });

  it('draws from Math.random by default', () => {
    for (let i = 0; i < 200; i++) {
      const delay = fullJitterDelay(1);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2000);
    }
  });

  it('rejects negative or non-finite bounds', () => {
    expect(() => fullJitterDelay(0, { baseMs: -1 })).toThrow(RangeError);
    expect(() => fullJitterDelay(0, { capMs: Number.NaN })).toThrow(RangeError);
    expect(() => fullJitterDelay(0, { capMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

describe('FullJitterBackoff', () => {
  it('doubles the window on each call until the cap, then stays there', () => {
    const backoff = new FullJitterBackoff({ baseMs: 10, capMs: 100, random: () => 0.999999 });
    const delays = Array.from({ length: 7 }, () => backoff.next());
    expect(delays).toEqual([9, 19, 39, 79, 99, 99, 99]);
    expect(backoff.attempt).toBe(7);
  });

  it('starts over from the first window after reset', () => {
    const backoff = new FullJitterBackoff({ baseMs: 10, capMs: 1000, random: () => 0.5 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(5);
  });

  it('passes every draw of the injected random source through', () => {
    const draws = [0.1, 0.9, 0.3];
    const backoff = new FullJitterBackoff({ baseMs: 1000, capMs: 30_000, random: () => draws.shift() ?? 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 1800, 1200]);
  });

  it('rejects bad bounds at construction', () => {
    expect(() => new FullJitterBackoff({ baseMs: -5 })).toThrow(RangeError);
    expect(() => new FullJitterBackoff({ capMs: -5 })).toThrow(RangeError);
  });
});
