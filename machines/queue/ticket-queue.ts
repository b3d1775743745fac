import { FenwickTree } from './fenwick-tree.js';

/** A place in one queue: a positive integer, issued in increasing order and never reused by that queue. */
export type Ticket = number;

const DEFAULT_INITIAL_CAPACITY = 16;

/**
 * A strict FIFO line in which any place can leave, and any place can be held (not live): a held place keeps
 * its position and counts towards everyone's rank, but is never returned by `firstLive`.
 *
 * Tickets map to slots by a base offset (slot = ticket - base). Two Fenwick trees count present and live
 * slots, so rank is a prefix sum and the earliest live place is a descent, both O(log n). Removed slots stay
 * as holes until the dead prefix before the head exceeds half the store; then the remaining span moves to
 * slot 0 and the base moves with it, so tickets stay stable for callers. Memory follows the ticket span from
 * the head to the tail, not the number of entries.
 */
export class TicketQueue<T> {
  private readonly initialCapacity: number;
  /** Slot → value; its length is the number of slots in use (the tail). Holes hold undefined. */
  private values: (T | undefined)[] = [];
  private present: Uint8Array;
  private live: Uint8Array;
  private presentTree: FenwickTree;
  private liveTree: FenwickTree;
  /** Ticket stored in slot 0. */
  private base: Ticket = 1;
  /** Earliest present slot; 0 when empty. Always at most half the capacity. */
  private headSlot = 0;
  private nextTicket: Ticket = 1;

  // O(initialCapacity)
  constructor(initialCapacity = DEFAULT_INITIAL_CAPACITY) {
    if (!(Number.isInteger(initialCapacity) && initialCapacity >= 1)) {
      throw new RangeError(`initial capacity ${initialCapacity} is not a positive integer`);
    }
    this.initialCapacity = initialCapacity;
    this.present = new Uint8Array(initialCapacity);
    this.live = new Uint8Array(initialCapacity);
    this.presentTree = new FenwickTree(initialCapacity);
    this.liveTree = new FenwickTree(initialCapacity);
  }

  /** Entries present, live and held. O(1) */
  get size(): number {
    return this.presentTree.total;
  }

  /** Entries marked live. O(1) */
  get liveCount(): number {
    return this.liveTree.total;
  }

  /** Slots allocated; exposed so growth and compaction can be observed. O(1) */
  get capacity(): number {
    return this.present.length;
  }

  /** Adds a live entry at the tail. Amortised O(log n): the Fenwick updates, plus O(1) amortised resizing. */
  enqueue(value: T): Ticket {
    let slot = this.nextTicket - this.base;
    if (slot === this.present.length) {
      this.makeRoomAtTail();
      slot = this.nextTicket - this.base;
    }
    this.values.push(value);
    this.present[slot] = 1;
    this.live[slot] = 1;
    this.presentTree.add(slot, 1);
    this.liveTree.add(slot, 1);
    return this.nextTicket++;
  }

  // O(1)
  has(ticket: Ticket): boolean {
    return this.slotOf(ticket) >= 0;
  }

  // O(1)
  get(ticket: Ticket): T | undefined {
    const slot = this.slotOf(ticket);
    return slot < 0 ? undefined : this.values[slot];
  }

  /** Replaces the value in place, keeping the position. Throws on an absent ticket. O(1) */
  set(ticket: Ticket, value: T): void {
    this.values[this.slotOrThrow(ticket)] = value;
  }

  /** Removes the entry wherever it is; false if absent. O(log n), amortised O(log n) with compaction. */
  remove(ticket: Ticket): boolean {
    const slot = this.slotOf(ticket);
    if (slot < 0) return false;
    this.present[slot] = 0;
    this.presentTree.add(slot, -1);
    if (this.live[slot] === 1) {
      this.live[slot] = 0;
      this.liveTree.add(slot, -1);
    }
    this.values[slot] = undefined;
    if (this.presentTree.total === 0) {
      this.restartEmpty();
    } else if (slot === this.headSlot) {
      this.headSlot = this.presentTree.nthIndex(1);
      if (this.headSlot * 2 > this.present.length) this.relocate(this.capacityAfterCompaction());
    }
    return true;
  }

  /** 1-based place among all present entries, live and held; 0 if absent. O(log n) */
  rank(ticket: Ticket): number {
    const slot = this.slotOf(ticket);
    return slot < 0 ? 0 : this.presentTree.prefixSum(slot + 1);
  }

  /** Marks an entry live or held; no-op if unchanged. Throws on an absent ticket. O(log n) */
  setLive(ticket: Ticket, live: boolean): void {
    const slot = this.slotOrThrow(ticket);
    const flag = live ? 1 : 0;
    if (this.live[slot] === flag) return;
    this.live[slot] = flag;
    this.liveTree.add(slot, live ? 1 : -1);
  }

  /** False for held entries and for absent tickets. O(1) */
  isLive(ticket: Ticket): boolean {
    const slot = this.slotOf(ticket);
    return slot >= 0 && this.live[slot] === 1;
  }

  /** Earliest present entry, live or held. O(1) */
  head(): Ticket | undefined {
    return this.presentTree.total === 0 ? undefined : this.base + this.headSlot;
  }

  /** Earliest live entry, skipping held ones by a descent of the live-count tree. O(log n) */
  firstLive(): Ticket | undefined {
    return this.nthLive(1);
  }

  /** The `n`-th live entry from the head (1-based), skipping held ones; undefined past the last. O(log n) */
  nthLive(n: number): Ticket | undefined {
    const slot = this.liveTree.nthIndex(n);
    return slot < 0 ? undefined : this.base + slot;
  }

  /** Removes and returns the earliest live entry; held entries keep their places. O(log n) amortised */
  dequeueFirstLive(): [Ticket, T] | undefined {
    const ticket = this.firstLive();
    if (ticket === undefined) return undefined;
    const value = this.values[ticket - this.base] as T;
    this.remove(ticket);
    return [ticket, value];
  }

  /**
   * Entries in queue order from the head, lazily: O(1) per entry, O(log n) to jump over a run of holes.
   * Follows changes made while iterating: removed entries not yet reached are skipped, new ones are reached.
   */
  *entries(): IterableIterator<[Ticket, T]> {
    let ticket = this.base + this.headSlot;
    for (;;) {
      // Recomputed each step: a compaction during iteration moves the base, never the tickets.
      let slot = Math.max(ticket - this.base, this.headSlot);
      if (slot >= this.values.length) return;
      if (this.present[slot] !== 1) {
        slot = this.presentTree.nthIndex(this.presentTree.prefixSum(slot) + 1);
        if (slot < 0) return;
      }
      ticket = this.base + slot;
      yield [ticket, this.values[slot] as T];
      ticket++;
    }
  }

  /** Removes every entry and releases the store; tickets already issued are not reissued. O(initialCapacity) */
  clear(): void {
    this.allocate(this.initialCapacity);
    this.values = [];
    this.base = this.nextTicket;
    this.headSlot = 0;
  }

  /** Slot of a present ticket, else -1. Out-of-range and non-integer tickets index past the typed array. */
  private slotOf(ticket: Ticket): number {
    const slot = ticket - this.base;
    return this.present[slot] === 1 ? slot : -1;
  }

  private slotOrThrow(ticket: Ticket): number {
    const slot = this.slotOf(ticket);
    if (slot < 0) throw new RangeError(`ticket ${ticket} is not in the queue`);
    return slot;
  }

  /** The tail reached the end of the store: double it, dropping any dead prefix on the way. O(n) */
  private makeRoomAtTail(): void {
    const capacity = this.present.length * 2;
    if (this.headSlot > 0) {
      this.relocate(capacity);
      return;
    }
    const present = new Uint8Array(capacity);
    const live = new Uint8Array(capacity);
    present.set(this.present);
    live.set(this.live);
    this.present = present;
    this.live = live;
    this.presentTree.grow(capacity);
    this.liveTree.grow(capacity);
  }

  /** Keeps the store unless the survivors fill a quarter of it or less, then halves it down to fit. */
  private capacityAfterCompaction(): number {
    const capacity = this.present.length;
    const span = this.values.length - this.headSlot;
    return span * 4 <= capacity ? Math.max(this.initialCapacity, span * 2) : capacity;
  }

  /** Moves slots headSlot..tail to slot 0 of a store of `capacity` slots and rebuilds the trees. O(capacity) */
  private relocate(capacity: number): void {
    const shift = this.headSlot;
    const used = this.values.length;
    const span = used - shift;
    if (capacity === this.present.length) {
      this.present.copyWithin(0, shift, used).fill(0, span, used);
      this.live.copyWithin(0, shift, used).fill(0, span, used);
      this.presentTree.rebuild(this.present);
      this.liveTree.rebuild(this.live);
    } else {
      const present = this.present.subarray(shift, used);
      const live = this.live.subarray(shift, used);
      this.allocate(capacity);
      this.present.set(present);
      this.live.set(live);
      this.presentTree.rebuild(present);
      this.liveTree.rebuild(live);
    }
    this.values.copyWithin(0, shift, used);
    this.values.length = span;
    this.base += shift;
    this.headSlot = 0;
  }

  /** The last entry left: start again at slot 0, giving back a store grown far past the initial one. */
  private restartEmpty(): void {
    if (this.present.length > this.initialCapacity * 4) this.allocate(this.initialCapacity);
    this.values.length = 0;
    this.base = this.nextTicket;
    this.headSlot = 0;
  }

  /** Fresh, empty flags and trees of `capacity` slots. */
  private allocate(capacity: number): void {
    this.present = new Uint8Array(capacity);
    this.live = new Uint8Array(capacity);
    this.presentTree = new FenwickTree(capacity);
    this.liveTree = new FenwickTree(capacity);
  }
}
