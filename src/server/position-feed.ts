import type { RoomRuntime } from '../rooms/room-runtime.js';

export interface PositionFeedTiming {
  /**
   * Queues up to this length are refreshed in full: at once after a change that follows a quiet spell, and
   * at most once every `shortDelayMs` (ms) while changes keep coming, each refresh carrying all of them.
   */
  shortQueue: number;
  shortDelayMs: number;
  /**
   * Longer queues the same way in two passes: the first `shortQueue` places at most once every
   * `headIntervalMs` (ms), everyone after them by a sweep at most once every `sweepIntervalMs`.
   */
  headIntervalMs: number;
  sweepIntervalMs: number;
  /** Longest a refresh may hold the event loop before it yields (a promotion waiting to go out comes first). */
  sliceMs: number;
}

/**
 * Protocol v1 freshness: 100 ms up to 1,000 queued; beyond, 1 s for the first 1,000 places and 5 s for all.
 * Every pass starts as soon as a change is over (the turn after it, so the head's `active` goes out first),
 * so the budget is spent on sending, not waiting: one promotion at 10k queued is everywhere in ~0.3 s at
 * ~25 µs a send. While changes keep coming, the intervals bound the cost: a line of up to 1,000 at most every
 * 25 ms; a longer one's head at most 4 times a second and its sweep once a second, so even 100k places (2.5 s
 * of sends) are refreshed within 5 s.
 */
export const defaultPositionFeedTiming: PositionFeedTiming = {
  shortQueue: 1000,
  shortDelayMs: 25,
  headIntervalMs: 250,
  sweepIntervalMs: 1000,
  sliceMs: 2,
};

/** Sends `position` to `conn` if it differs from what it last got. 'deferred': the reader is too slow, retry later. */
export type SendPosition = (conn: string, position: number) => 'sent' | 'unchanged' | 'deferred';

type Pass = 'head' | 'sweep';

/**
 * Coalesced position fan-out for one room. A queue change only marks the room dirty; positions are computed
 * when a refresh runs, so a client gets at most one update per refresh, always the latest, always true when it
 * was computed. The head of the line is refreshed sooner than the tail. A refresh runs in slices of at most
 * `sliceMs`, so admissions, pongs and heartbeats are never stuck behind thousands of position sends.
 */
export class PositionFeed {
  private readonly timers: Record<Pass, ReturnType<typeof setTimeout> | null> = { head: null, sweep: null };
  private readonly running: Record<Pass, boolean> = { head: false, sweep: false };
  private readonly again: Record<Pass, boolean> = { head: false, sweep: false };
  /** When each pass last started (ms, on `now`). */
  private readonly startedAt: Record<Pass, number> = { head: -Infinity, sweep: -Infinity };
  /** When each armed pass is due (ms, on `now`). */
  private readonly dueAt: Record<Pass, number> = { head: Infinity, sweep: Infinity };
  private stopped = false;
  /** Position messages sent, for the fan-out cost figures. */
  sends = 0;

  constructor(
    private readonly room: RoomRuntime,
    private readonly sendPosition: SendPosition,
    private readonly timing: PositionFeedTiming = defaultPositionFeedTiming,
    private readonly now: () => number = () => performance.now(),
  ) {}

  markDirty(): void {
    if (this.stopped) return;
    const long = this.room.queueLength > this.timing.shortQueue;
    // At once (next turn, so changes of this turn are coalesced), but not sooner than an interval after the
    // same pass last started, so a busy line costs at most one pass per interval.
    this.schedule('head', this.dueIn('head', long ? this.timing.headIntervalMs : this.timing.shortDelayMs));
    if (long) this.schedule('sweep', this.dueIn('sweep', this.timing.sweepIntervalMs));
  }

  private dueIn(pass: Pass, intervalMs: number): number {
    return Math.max(0, this.startedAt[pass] + intervalMs - this.now());
  }

  stop(): void {
    this.stopped = true;
    for (const pass of ['head', 'sweep'] as const) {
      const timer = this.timers[pass];
      if (timer) clearTimeout(timer);
      this.timers[pass] = null;
    }
  }

  private schedule(pass: Pass, delayMs: number): void {
    if (this.running[pass]) {
      // The running pass may already be past the places that just changed: go round once more after it.
      this.again[pass] = true;
      return;
    }
    // An armed pass due later than this one asks (the line has just become short) is brought forward.
    const dueAt = this.now() + delayMs;
    const armed = this.timers[pass];
    if (armed !== null) {
      if (this.dueAt[pass] <= dueAt) return;
      clearTimeout(armed);
    }
    this.dueAt[pass] = dueAt;
    this.timers[pass] = setTimeout(() => this.run(pass), delayMs);
  }

  /**
   * One pass over the line: the head pass covers the first `shortQueue` places, the sweep the places after
   * them. Each slice re-reads the exact rank of its first waiter, so positions stay exact when the line
   * changes between slices.
   */
  private run(pass: Pass): void {
    this.timers[pass] = null;
    this.running[pass] = true;
    this.startedAt[pass] = this.now();
    const limit = pass === 'head' ? this.timing.shortQueue : Infinity;
    const skip = pass === 'head' ? 0 : this.timing.shortQueue;
    const waiters = this.room.waitersInOrder(limit);
    let deferred = false;
    const slice = () => {
      if (this.stopped) return;
      const deadline = this.now() + this.timing.sliceMs;
      let offset: number | null = null;
      for (let n = 0; ; n++) {
        const next = waiters.next();
        if (next.done) return this.finish(pass, deferred);
        const [conn, counted] = next.value;
        offset ??= this.room.positionOf(conn) - counted;
        const position = counted + offset;
        if (position <= skip) continue;
        const outcome = this.sendPosition(conn, position);
        if (outcome === 'sent') this.sends++;
        else if (outcome === 'deferred') deferred = true;
        // Reading the clock costs too; every 32 sends is often enough.
        if ((n & 31) === 31 && this.now() >= deadline) break;
      }
      setImmediate(slice);
    };
    slice();
  }

  private finish(pass: Pass, deferred: boolean): void {
    this.running[pass] = false;
    // A change came in during the pass, or a slow reader was skipped: refresh again.
    if (this.again[pass] || deferred) {
      this.again[pass] = false;
      this.markDirty();
    }
  }
}
