import { TicketQueue, type Ticket } from './ticket-queue.js';

/** Most distinct priorities one line holds; a place's ticket names its lane in its low bits. */
export const maxPriorityLanes = 64;

interface Lane<T> {
  priority: number;
  /** Its index in `byIndex`, the low bits of its places' tickets. */
  index: number;
  queue: TicketQueue<T>;
}

/**
 * A line served by priority (higher first), FIFO within one priority, with holes and held places as in
 * `TicketQueue`: one `TicketQueue` per priority (a lane), lanes kept in priority order. A place's ticket is
 * `laneTicket * maxPriorityLanes + laneIndex`, so it finds its lane in O(1). Rank is the places of every
 * higher lane plus the rank within its own lane: O(k + log n) for k lanes in use (k ≤ 64; 1 without
 * priorities, which is then exactly a `TicketQueue`).
 */
export class PriorityLine<T> {
  /** Lanes from the highest priority down. */
  private readonly lanes: Lane<T>[] = [];
  private readonly byIndex: Lane<T>[] = [];
  private readonly byPriority = new Map<number, Lane<T>>();

  /** Places present, live and held. O(k) */
  get size(): number {
    let total = 0;
    for (const lane of this.lanes) total += lane.queue.size;
    return total;
  }

  /** Places marked live. O(k) */
  get liveCount(): number {
    let total = 0;
    for (const lane of this.lanes) total += lane.queue.liveCount;
    return total;
  }

  /**
   * Adds a live place at the tail of its priority (an integer ≥ 0; default 0). O(log n) amortised, O(k) the
   * first time a priority is seen. Throws RangeError past `maxPriorityLanes` distinct priorities.
   */
  enqueue(value: T, priority = 0): Ticket {
    const lane = this.laneFor(priority);
    return lane.queue.enqueue(value) * maxPriorityLanes + lane.index;
  }

  /** How many places a new arrival of `priority` would find ahead of it. O(k) */
  placesAheadOfArrival(priority: number): number {
    let ahead = 0;
    for (const lane of this.lanes) {
      if (lane.priority < priority) break;
      ahead += lane.queue.size;
    }
    return ahead;
  }

  /** The priority of a place's lane. O(1) */
  priorityOf(ticket: Ticket): number {
    return this.byIndex[ticket % maxPriorityLanes]!.priority;
  }

  get(ticket: Ticket): T | undefined {
    return this.byIndex[ticket % maxPriorityLanes]?.queue.get(Math.floor(ticket / maxPriorityLanes));
  }

  /** Replaces the value in place. Throws on an absent ticket. O(1) */
  set(ticket: Ticket, value: T): void {
    this.laneOf(ticket).queue.set(Math.floor(ticket / maxPriorityLanes), value);
  }

  remove(ticket: Ticket): boolean {
    return this.byIndex[ticket % maxPriorityLanes]?.queue.remove(Math.floor(ticket / maxPriorityLanes)) ?? false;
  }

  /** 1-based place among all present places, live and held, across priorities; 0 if absent. O(k + log n) */
  rank(ticket: Ticket): number {
    const own = this.byIndex[ticket % maxPriorityLanes];
    if (own === undefined) return 0;
    const inLane = own.queue.rank(Math.floor(ticket / maxPriorityLanes));
    if (inLane === 0) return 0;
    let ahead = 0;
    for (const lane of this.lanes) {
      if (lane === own) break;
      ahead += lane.queue.size;
    }
    return ahead + inLane;
  }

  /** Marks a place live or held. Throws on an absent ticket. O(log n) */
  setLive(ticket: Ticket, live: boolean): void {
    this.laneOf(ticket).queue.setLive(Math.floor(ticket / maxPriorityLanes), live);
  }

  /** The `n`-th live place in serving order (1-based); undefined past the last. O(k + log n) */
  nthLive(n: number): Ticket | undefined {
    let left = n;
    for (const lane of this.lanes) {
      const live = lane.queue.liveCount;
      if (left <= live) return lane.queue.nthLive(left)! * maxPriorityLanes + lane.index;
      left -= live;
    }
    return undefined;
  }

  /** Places in serving order, lazily; follows changes made while iterating within a lane. */
  *entries(): IterableIterator<[Ticket, T]> {
    for (const lane of [...this.lanes]) {
      for (const [laneTicket, value] of lane.queue.entries()) yield [laneTicket * maxPriorityLanes + lane.index, value];
    }
  }

  /**
   * Puts each lane's places, held ones included, in the order `reorder` returns them (a permutation of what it
   * is given); priorities stay as they are. Every place gets a new ticket: returns each with its new ticket, in
   * serving order. O(n log n)
   */
  reorderLanes(reorder: (places: { value: T; live: boolean }[]) => { value: T; live: boolean }[]): [Ticket, T][] {
    const out: [Ticket, T][] = [];
    for (const lane of this.lanes) {
      const places = [...lane.queue.entries()].map(([ticket, value]) => ({ ticket, value, live: lane.queue.isLive(ticket) }));
      for (const place of places) lane.queue.remove(place.ticket);
      for (const { value, live } of reorder(places.map(({ value, live }) => ({ value, live })))) {
        const ticket = lane.queue.enqueue(value);
        if (!live) lane.queue.setLive(ticket, false);
        out.push([ticket * maxPriorityLanes + lane.index, value]);
      }
    }
    return out;
  }

  private laneOf(ticket: Ticket): Lane<T> {
    const lane = this.byIndex[ticket % maxPriorityLanes];
    if (lane === undefined) throw new RangeError(`ticket ${ticket} is not in the line`);
    return lane;
  }

  private laneFor(priority: number): Lane<T> {
    const known = this.byPriority.get(priority);
    if (known !== undefined) return known;
    if (!(Number.isSafeInteger(priority) && priority >= 0)) throw new RangeError(`priority ${priority} is not a whole number >= 0`);
    if (this.byIndex.length === maxPriorityLanes) throw new RangeError(`more than ${maxPriorityLanes} distinct priorities in one line`);
    const lane: Lane<T> = { priority, index: this.byIndex.length, queue: new TicketQueue<T>() };
    this.byIndex.push(lane);
    this.byPriority.set(priority, lane);
    const at = this.lanes.findIndex((other) => other.priority < priority);
    this.lanes.splice(at < 0 ? this.lanes.length : at, 0, lane);
    return lane;
  }
}
