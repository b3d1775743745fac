/** The clock an XState actor schedules its delayed events on (the `clock` option of `createActor`). */
export interface ActorClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/** The real timers, for actors live. */
export const wallClock: ActorClock = {
  setTimeout: (fn, timeout) => setTimeout(fn, timeout),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** A clock whose timers fire only when told to, by number: what replay drives actors with. */
export class ReplayClock implements ActorClock {
  private armed = 0;
  private readonly pending = new Map<number, () => void>();

  setTimeout(fn: (...args: unknown[]) => void, _timeout: number): unknown {
    const timer = ++this.armed;
    this.pending.set(timer, fn);
    return timer;
  }

  clearTimeout(id: unknown): void {
    this.pending.delete(id as number);
  }

  /** Fires timer `timer`; false when it is not armed (it was never set, already fired or was cleared). */
  fire(timer: number): boolean {
    const fn = this.pending.get(timer);
    if (!fn) return false;
    this.pending.delete(timer);
    fn();
    return true;
  }
}
