import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FenwickTree } from '../../../machines/queue/fenwick-tree.js';

/** Every prefix sum and every n-th index of `tree`, to compare with the same read from a plain array. */
function readAll(tree: FenwickTree): { prefix: number[]; nth: number[] } {
  const prefix: number[] = [];
  for (let end = 0; end <= tree.capacity; end++) prefix.push(tree.prefixSum(end));
  const nth: number[] = [];
  for (let n = 0; n <= tree.total + 1; n++) nth.push(tree.nthIndex(n));
  return { prefix, nth };
}

function readAllFromCounts(counts: readonly number[]): { prefix: number[]; nth: number[] } {
  const prefix = [0];
  for (const count of counts) prefix.push(prefix[prefix.length - 1]! + count);
  const total = prefix[prefix.length - 1]!;
  const nth = [-1];
  for (let n = 1; n <= total; n++) nth.push(prefix.findIndex((sum) => sum >= n) - 1);
  nth.push(-1);
  return { prefix, nth };
}

describe('FenwickTree', () => {
  it('sums prefixes of the counts added to it', () => {
    const tree = new FenwickTree(10);
    tree.add(0, 2);
    tree.add(3, 1);
    tree.add(9, 5);
    tree.add(3, 4);
    expect(tree.total).toBe(12);
    expect(tree.prefixSum(0)).toBe(0);
    expect(tree.prefixSum(1)).toBe(2);
    expect(tree.prefixSum(3)).toBe(2);
    expect(tree.prefixSum(4)).toBe(7);
    expect(tree.prefixSum(9)).toBe(7);
    expect(tree.prefixSum(10)).toBe(12);
    expect(tree.prefixSum(1000)).toBe(12);
    expect(tree.prefixSum(-3)).toBe(0);
  });

  it('finds the slot where the running sum reaches n', () => {
    const tree = FenwickTree.from([0, 1, 0, 0, 1, 1, 0, 1]);
    expect([1, 2, 3, 4].map((n) => tree.nthIndex(n))).toEqual([1, 4, 5, 7]);
    expect(tree.nthIndex(0)).toBe(-1);
    expect(tree.nthIndex(5)).toBe(-1);

    const weighted = FenwickTree.from([3, 0, 2]);
    expect([1, 2, 3, 4, 5].map((n) => weighted.nthIndex(n))).toEqual([0, 0, 0, 2, 2]);
  });

  it('returns -1 from nthIndex on an empty tree', () => {
    expect(new FenwickTree(7).nthIndex(1)).toBe(-1);
  });

  it('rejects slots outside its capacity and bad capacities', () => {
    const tree = new FenwickTree(4);
    expect(() => tree.add(4, 1)).toThrow(RangeError);
    expect(() => tree.add(-1, 1)).toThrow(RangeError);
    expect(() => tree.add(1.5, 1)).toThrow(RangeError);
    expect(() => new FenwickTree(0)).toThrow(RangeError);
    expect(() => new FenwickTree(2.5)).toThrow(RangeError);
    expect(() => tree.rebuild([1, 1, 1, 1, 1])).toThrow(RangeError);
  });

  it('keeps every count when it grows, from any capacity to any larger one', () => {
    for (const [from, to] of [
      [1, 2],
      [5, 13],
      [8, 16],
      [7, 64],
      [12, 13],
      [16, 100],
    ] as const) {
      const counts = Array.from({ length: from }, (_, i) => (i * 7 + 3) % 4);
      const tree = FenwickTree.from(counts);
      tree.grow(to);
      expect(tree.capacity).toBe(to);
      const padded = [...counts, ...Array<number>(to - from).fill(0)];
      expect(readAll(tree)).toEqual(readAllFromCounts(padded));
      tree.add(to - 1, 2);
      padded[to - 1] = 2;
      expect(readAll(tree)).toEqual(readAllFromCounts(padded));
    }
  });

  it('does not shrink when asked to grow to a smaller capacity', () => {
    const tree = FenwickTree.from([1, 2, 3]);
    tree.grow(2);
    expect(tree.capacity).toBe(3);
    expect(tree.total).toBe(6);
  });

  it('clears every count', () => {
    const tree = FenwickTree.from([1, 2, 3]);
    tree.clear();
    expect(tree.total).toBe(0);
    expect(tree.prefixSum(3)).toBe(0);
    expect(tree.nthIndex(1)).toBe(-1);
  });

  it('agrees with a plain array under random adds, grows and rebuilds', () => {
    type Op =
      | { kind: 'add'; pick: number; delta: number }
      | { kind: 'grow'; extra: number }
      | { kind: 'rebuild'; counts: number[] };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), delta: fc.integer({ min: 0, max: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('grow' as const), extra: fc.integer({ min: 0, max: 40 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('rebuild' as const), counts: fc.array(fc.nat(3), { maxLength: 40 }) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(op, { size: 'max', maxLength: 60 }), (capacity, ops) => {
        const tree = new FenwickTree(capacity);
        let model: number[] = Array<number>(capacity).fill(0);
        for (const step of ops) {
          if (step.kind === 'add') {
            const index = step.pick % model.length;
            tree.add(index, step.delta);
            model[index]! += step.delta;
          } else if (step.kind === 'grow') {
            tree.grow(model.length + step.extra);
            while (model.length < tree.capacity) model.push(0);
          } else {
            const counts = step.counts.slice(0, model.length);
            tree.rebuild(counts);
            model = model.map((_, i) => counts[i] ?? 0);
          }
          expect(tree.capacity).toBe(model.length);
          expect(tree.total).toBe(model.reduce((a, b) => a + b, 0));
          const actual = readAll(tree);
          const wanted = readAllFromCounts(model);
          // Compared as JSON first because a deep expect per step dominates the run time; expect gives the diff.
          if (JSON.stringify(actual) !== JSON.stringify(wanted)) expect(actual).toEqual(wanted);
        }
      }),
      { numRuns: 200 },
    );
  });
});
