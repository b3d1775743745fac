/**
 * A Fenwick (binary indexed) tree of integer counts over slots 0..capacity-1, growable in place.
 *
 * The ticket queue keeps one per flag (present, live): prefix sums give a place in line and the descent in
 * `nthIndex` finds the n-th flagged slot, both in O(log n) without scanning the slots.
 * Counts and partial sums must fit in a signed 32-bit integer.
 */
export class FenwickTree {
  /** 1-based: node i holds the sum of slots (i - lowbit(i), i]. Node 0 is unused. */
  private tree: Int32Array;
  private sum = 0;
  /** Largest power of two not above the capacity: where the descent in `nthIndex` starts. */
  private topStep: number;

  // O(capacity)
  constructor(capacity = 16) {
    const size = checkedCapacity(capacity);
    this.tree = new Int32Array(size + 1);
    this.topStep = highestPowerOfTwoUpTo(size);
  }

  /** A tree over `counts`, with room for `capacity` slots (at least counts.length). O(capacity). */
  static from(counts: ArrayLike<number>, capacity = counts.length): FenwickTree {
    const tree = new FenwickTree(Math.max(capacity, counts.length, 1));
    tree.rebuild(counts);
    return tree;
  }

  // O(1)
  get capacity(): number {
    return this.tree.length - 1;
  }

  /** Sum of all counts. O(1) */
  get total(): number {
    return this.sum;
  }

  /** Adds `delta` to the count of slot `index`. O(log n) */
  add(index: number, delta: number): void {
    const tree = this.tree;
    const size = tree.length - 1;
    if (!(index >= 0 && index < size && Number.isInteger(index))) {
      throw new RangeError(`slot ${index} is outside 0..${size - 1}`);
    }
    for (let node = index + 1; node <= size; node += node & -node) tree[node]! += delta;
    this.sum += delta;
  }

  /** Sum of the counts of slots 0..end-1; `end` is clamped to 0..capacity. O(log n) */
  prefixSum(end: number): number {
    const tree = this.tree;
    let node = Math.min(Math.floor(end), tree.length - 1);
    let acc = 0;
    for (; node > 0; node -= node & -node) acc += tree[node]!;
    return acc;
  }

  /**
   * The slot at which the running sum first reaches `n` (1-based), or -1 when n < 1 or n > total.
   * With 0/1 counts this is the n-th flagged slot. Assumes no count is negative. O(log n)
   */
  nthIndex(n: number): number {
    if (!(n >= 1 && n <= this.sum)) return -1;
    const tree = this.tree;
    const size = tree.length - 1;
    let node = 0;
    let remaining = n;
    for (let step = this.topStep; step > 0; step >>= 1) {
      const next = node + step;
      if (next <= size && tree[next]! < remaining) {
        node = next;
        remaining -= tree[next]!;
      }
    }
    // `node` is the longest prefix whose sum stays below n, so the answer is the slot right after it.
    return node;
  }

  /**
   * Makes room for at least `minCapacity` slots, keeping every count. O(new capacity): a copy, plus
   * O(log² n) to fill the new nodes whose range reaches back over the old slots.
   */
  grow(minCapacity: number): void {
    const oldSize = this.tree.length - 1;
    if (minCapacity <= oldSize) return;
    const newSize = checkedCapacity(minCapacity);
    const tree = new Int32Array(newSize + 1);
    tree.set(this.tree);
    // Nodes above oldSize cover only empty slots unless their range starts below oldSize; those nodes are
    // exactly the ancestors of node oldSize, and their old-slot part is total - prefix(range start).
    const old = this.tree;
    const oldPrefix = (end: number): number => {
      let acc = 0;
      for (let node = end; node > 0; node -= node & -node) acc += old[node]!;
      return acc;
    };
    for (let node = oldSize + (oldSize & -oldSize); node <= newSize; node += node & -node) {
      tree[node] = this.sum - oldPrefix(node - (node & -node));
    }
    this.tree = tree;
    this.topStep = highestPowerOfTwoUpTo(newSize);
  }

  /** Replaces every count: slot i gets counts[i], slots past counts.length get 0. O(capacity) */
  rebuild(counts: ArrayLike<number>): void {
    const tree = this.tree;
    const size = tree.length - 1;
    if (counts.length > size) {
      throw new RangeError(`${counts.length} counts do not fit in ${size} slots`);
    }
    tree.fill(0);
    let sum = 0;
    for (let i = 0; i < counts.length; i++) {
      const count = counts[i]!;
      tree[i + 1] = count;
      sum += count;
    }
    for (let node = 1; node <= size; node++) {
      const parent = node + (node & -node);
      if (parent <= size) tree[parent]! += tree[node]!;
    }
    this.sum = sum;
  }

  /** Sets every count to 0, keeping the capacity. O(capacity) */
  clear(): void {
    this.tree.fill(0);
    this.sum = 0;
  }
}

const MAX_CAPACITY = 2 ** 30;

function checkedCapacity(capacity: number): number {
  // Node indices are walked with 32-bit bit tricks, so stay well inside int32.
  if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= MAX_CAPACITY)) {
    throw new RangeError(`capacity ${capacity} is not an integer in 1..${MAX_CAPACITY}`);
  }
  return capacity;
}

function highestPowerOfTwoUpTo(n: number): number {
  let step = 1;
  while (step * 2 <= n) step *= 2;
  return step;
}
