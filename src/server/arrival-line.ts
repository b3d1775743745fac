import { performance } from 'node:perf_hooks';

/**
 * Arrivals waiting to become WebSockets, in the order they came. A storm of upgrades is taken in slices of at
 * most `sliceMs` (ms) of the event loop, each slice in a turn of its own, so the loop goes back to timers and
 * sockets between slices: the close of a seated visitor, and the admission it frees, waits for one slice at
 * most, not for every arrival of a burst. The order of arrival is kept, so the line's order is too.
 *
 * Visitors coming back for a place the room still holds for them have a lane of their own: their place in
 * line is already theirs, so letting them in sooner passes nobody, and a long storm cannot outlast their
 * resume window. Whether it is still held is asked again when their turn comes: one whose place went in the
 * meantime would be given a fresh one, so it waits for its turn among the others, where it came. While both
 * lanes wait they take turns, so a flood of upgrades presenting one valid token cannot hold new arrivals back.
 */
export class ArrivalLine {
  private readonly returning = new Lane();
  /** Every arrival, returning ones too: a returning one taken early is skipped here. */
  private readonly arriving = new Lane();
  private waiting = 0;
  private returningTurn = true;
  private scheduled = false;

  /**
   * @param sliceMs longest a slice may run before it yields, ms (one arrival always runs, however long it takes).
   * @param onError told of an arrival that threw; the arrivals after it still run.
   * @param now the clock slices are measured on, ms.
   */
  constructor(
    private readonly sliceMs: number,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Arrivals not yet taken. */
  get length(): number {
    return this.waiting;
  }

  /**
   * Takes `arrival` in a later turn, after every arrival already waiting. With `stillReturning` (it comes back
   * for a place held for it), it may go sooner, by the returning lane, if `stillReturning()` holds when its
   * turn there comes; taking turns with the other lane, after every returning one already waiting.
   */
  push(arrival: () => void, stillReturning?: () => boolean): void {
    const entry: Arrival = { run: arrival, taken: false, stillReturning };
    this.waiting++;
    this.arriving.push(entry);
    if (stillReturning !== undefined) this.returning.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  private readonly slice = (): void => {
    const deadline = this.now() + this.sliceMs;
    do {
      const arrival = this.next();
      arrival.taken = true;
      this.waiting--;
      try {
        arrival.run();
      } catch (error) {
        this.onError(error);
      }
    } while (this.waiting > 0 && this.now() < deadline);
    if (this.waiting > 0) setImmediate(this.slice);
    else this.scheduled = false;
  };

  /** The next arrival to take; only called when one waits. */
  private next(): Arrival {
    if (this.returningTurn) {
      const returning = this.nextReturning();
      if (returning !== undefined) {
        this.returningTurn = false;
        return returning;
      }
    }
    this.returningTurn = true;
    // Every arrival waiting is in the arriving lane.
    return this.arriving.takeUntaken()!;
  }

  /** The first returning arrival still held a place; the others stay in the arriving lane, where they came. */
  private nextReturning(): Arrival | undefined {
    for (let arrival = this.returning.takeUntaken(); arrival !== undefined; arrival = this.returning.takeUntaken()) {
      if (this.stillReturning(arrival)) return arrival;
    }
    return undefined;
  }

  /** Asks an arrival's question; one that throws is reported and keeps its place among the others. */
  private stillReturning(arrival: Arrival): boolean {
    try {
      return arrival.stillReturning!();
    } catch (error) {
      this.onError(error);
      return false;
    }
  }
}

interface Arrival {
  readonly run: () => void;
  taken: boolean;
  readonly stillReturning: (() => boolean) | undefined;
}

/** A FIFO of arrivals; the taken head is dropped in chunks, not one `shift` each. */
class Lane {
  private readonly waiting: Arrival[] = [];
  private head = 0;

  push(arrival: Arrival): void {
    this.waiting.push(arrival);
  }

  /** The first arrival not already taken by the other lane, removed; undefined when there is none. */
  takeUntaken(): Arrival | undefined {
    while (this.head < this.waiting.length) {
      const arrival = this.waiting[this.head]!;
      this.waiting[this.head++] = noArrival;
      this.compact();
      if (!arrival.taken) return arrival;
    }
    return undefined;
  }

  private compact(): void {
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }
}

const noArrival: Arrival = { run: () => {}, taken: true, stillReturning: undefined };
