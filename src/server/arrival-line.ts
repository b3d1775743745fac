import { performance } from 'node:perf_hooks';

/**
 * Arrivals waiting to become WebSockets, in the order they came. A storm of upgrades is taken in slices of at
 * most `sliceMs` (ms) of the event loop, each slice in a turn of its own, so the loop goes back to timers and
 * sockets between slices: the close of a seated visitor, and the admission it frees, waits for one slice at
 * most, not for every arrival of a burst. The order of arrival is kept, so the line's order is too.
 *
 * Visitors coming back for a place the room still holds for them go first: their place in line is already
 * theirs, so letting them in sooner passes nobody, and a long storm cannot outlast their resume window.
 */
export class ArrivalLine {
  private readonly returning = new Lane();
  private readonly arriving = new Lane();
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
    return this.returning.length + this.arriving.length;
  }

  /**
   * Takes `arrival` in a later turn: after every arrival already waiting or, when it comes back for a place
   * held for it (`returning`), after every returning one already waiting and before the rest.
   */
  push(arrival: () => void, returning = false): void {
    (returning ? this.returning : this.arriving).push(arrival);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  private readonly slice = (): void => {
    const deadline = this.now() + this.sliceMs;
    do {
      const arrival = this.returning.length > 0 ? this.returning.take() : this.arriving.take();
      try {
        arrival();
      } catch (error) {
        this.onError(error);
      }
    } while (this.length > 0 && this.now() < deadline);
    if (this.length > 0) setImmediate(this.slice);
    else this.scheduled = false;
  };
}

/** A FIFO of arrivals; the taken head is dropped in chunks, not one `shift` each. */
class Lane {
  private readonly waiting: Array<() => void> = [];
  private head = 0;

  get length(): number {
    return this.waiting.length - this.head;
  }

  push(arrival: () => void): void {
    this.waiting.push(arrival);
  }

  /** The first arrival; only called when `length > 0`. */
  take(): () => void {
    const arrival = this.waiting[this.head]!;
    this.waiting[this.head++] = noArrival;
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return arrival;
  }
}

function noArrival(): void {}
