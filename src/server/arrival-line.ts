import { performance } from 'node:perf_hooks';

/**
 * Arrivals waiting to become WebSockets, in the order they came. A storm of upgrades is taken in slices of at
 * most `sliceMs` (ms) of the event loop, each slice in a turn of its own, so the loop goes back to timers and
 * sockets between slices: the close of a seated visitor, and the admission it frees, waits for one slice at
 * most, not for every arrival of a burst. The order of arrival is kept, so the line's order is too.
 */
export class ArrivalLine {
  private readonly waiting: Array<() => void> = [];
  /** Index of the next arrival in `waiting`; the taken head is dropped in chunks, not one `shift` each. */
  private head = 0;
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
    return this.waiting.length - this.head;
  }

  /** Takes `arrival` after every arrival already waiting, in a later turn. */
  push(arrival: () => void): void {
    this.waiting.push(arrival);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  private readonly slice = (): void => {
    const deadline = this.now() + this.sliceMs;
    do {
      const arrival = this.waiting[this.head]!;
      this.waiting[this.head++] = noArrival;
      try {
        arrival();
      } catch (error) {
        this.onError(error);
      }
    } while (this.length > 0 && this.now() < deadline);
    this.compact();
    if (this.length > 0) setImmediate(this.slice);
    else this.scheduled = false;
  };

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

function noArrival(): void {}
