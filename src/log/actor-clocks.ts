/** The clock an XState actor schedules its delayed events on (the `clock` option of `createActor`). */
export interface ActorClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Makes the clock for one actor: the room's (conn = null) or one connection's. */
export type ActorClockFactory = (room: string, conn: string | null) => ActorClock;

/**
 * Numbers the timers an actor arms (1, 2, 3, … in the order it arms them) and reports each one that fires,
 * before the actor sees it. Replay fires the same numbers in the same order, so a timer that raced a message
 * in production races it the same way in replay.
 */
export function recordingClock(base: ActorClock, onFire: (timer: number) => void): ActorClock {
  let armed = 0;
  return {
    setTimeout(fn, timeout) {
      const timer = ++armed;
      return base.setTimeout(() => {
        onFire(timer);
        fn();
      }, timeout);
    },
    clearTimeout(id) {
      base.clearTimeout(id);
    },
  };
}

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
