import type { RoomRuntime } from '../rooms/room-runtime.js';

export interface PositionFeedTiming {
  /** Queues up to this length are refreshed in full within `shortDelayMs`. */
  shortQueue: number;
  shortDelayMs: number;
  /** Longer queues: the first `shortQueue` places within `headDelayMs`, everyone within `sweepDelayMs` + sweep. */
  headDelayMs: number;
  sweepDelayMs: number;
  /** Sends per slice of a long sweep, so a sweep never blocks the event loop for long. */
  sliceSize: number;
}

/** Protocol v1 freshness: 100 ms up to 1,000 queued; beyond, 1 s for the first 1,000 places and 5 s for all. */
export const defaultPositionFeedTiming: PositionFeedTiming = {
  shortQueue: 1000,
  shortDelayMs: 25,
  headDelayMs: 250,
  sweepDelayMs: 2500,
  sliceSize: 1000,
};

/** Sends `position` to `conn` if it differs from what it last got; returns whether it should be retried. */
export type SendPosition = (conn: string, position: number) => 'sent' | 'unchanged' | 'deferred';

/**
 * Coalesced position fan-out for one room. A queue change only marks the room dirty; positions are computed
 * when a flush runs, so a client gets at most one update per flush, always the latest, always true when it was
 * computed. The head of the line is refreshed first and more often than the tail.
 */
export class PositionFeed {
  private headTimer: ReturnType<typeof setTimeout> | null = null;
  private sweepTimer: ReturnType<typeof setTimeout> | null = null;
  private sweeping = false;
  private sweepAgain = false;
  private stopped = false;
  /** Sends made by flushes, for the fan-out cost figures. */
  sends = 0;

  constructor(
    private readonly room: RoomRuntime,
    private readonly sendPosition: SendPosition,
    private readonly timing: PositionFeedTiming = defaultPositionFeedTiming,
  ) {}

  markDirty(): void {
    if (this.stopped) return;
    const long = this.room.queueLength > this.timing.shortQueue;
    if (!this.headTimer) {
      this.headTimer = setTimeout(() => this.flushHead(), long ? this.timing.headDelayMs : this.timing.shortDelayMs);
    }
    if (long && !this.sweepTimer) {
      if (this.sweeping) this.sweepAgain = true;
      else this.sweepTimer = setTimeout(() => this.sweep(), this.timing.sweepDelayMs);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.headTimer) clearTimeout(this.headTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.headTimer = this.sweepTimer = null;
  }

  private flushHead(): void {
    this.headTimer = null;
    let deferred = false;
    for (const [conn, position] of this.room.waitersInOrder(this.timing.shortQueue)) {
      const outcome = this.sendPosition(conn, position);
      if (outcome === 'sent') this.sends++;
      else if (outcome === 'deferred') deferred = true;
    }
    // A slow reader skipped this round gets the then-latest position on the next one.
    if (deferred) this.markDirty();
  }

  /** Everyone past the head, in slices; each slice re-reads its first position so positions stay exact. */
  private sweep(): void {
    this.sweepTimer = null;
    this.sweeping = true;
    const waiters = this.room.waitersInOrder();
    let skipped = 0;
    let deferred = false;
    const slice = () => {
      if (this.stopped) return;
      let offset: number | null = null;
      let budget = this.timing.sliceSize;
      for (;;) {
        const next = waiters.next();
        if (next.done) {
          this.sweeping = false;
          // Another change came in during the sweep, or a slow reader was skipped: sweep again.
          if (this.sweepAgain || deferred) {
            this.sweepAgain = false;
            this.markDirty();
          }
          return;
        }
        const [conn, counted] = next.value;
        if (skipped < this.timing.shortQueue) {
          skipped++;
          continue;
        }
        // The queue may have changed between slices: re-anchor on the exact rank of this slice's first waiter.
        offset ??= this.room.positionOf(conn) - counted;
        const outcome = this.sendPosition(conn, counted + offset);
        if (outcome === 'sent') this.sends++;
        else if (outcome === 'deferred') deferred = true;
        if (--budget === 0) break;
      }
      setImmediate(slice);
    };
    slice();
  }
}
