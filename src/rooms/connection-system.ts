import { createActor, fromCallback, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';

/** What XState's scheduler keeps per delayed event: enough to cancel it. */
type Scheduler = {
  schedule(source: AnyActorRef, target: AnyActorRef, event: unknown, delay: number, id?: string): void;
  cancel(source: AnyActorRef, id: string): void;
  cancelAll(source: AnyActorRef): void;
};
interface Clock {
  setTimeout(fn: () => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}
type ClockedActor = AnyActorRef & { clock: Clock };
interface SharedSystem {
  scheduler: Scheduler;
  _relay(source: AnyActorRef, target: AnyActorRef, event: unknown): void;
  inspect(observer: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): unknown;
}

/**
 * The one XState system a room's connection actors share, given to each as its `parent`. A root actor would
 * build a system of its own (three maps, a set, a scheduler and some twenty closures: about 1.9 KiB a
 * connection); sharing one keeps each actor a root of its own behaviour at the cost of its `Actor` alone.
 *
 * Its scheduler arms each delayed event on the clock of the actor that raised it (`createActor(…, {clock})`),
 * so every actor still numbers its own timers for the log, and it keeps each actor's timers apart, so stopping
 * one costs its own timers, not a scan of the room's. An actor that fails tells its parent, and the parent
 * tells `onFailed` (the actor's id, what it threw), so no actor needs an observer of its own; its done event
 * goes nowhere.
 */
export function connectionSystemParent(
  onFailed: (actorId: string, error: unknown) => void,
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void),
): AnyActorRef {
  // A never-started actor lends its system: built by XState, so registration, relays and inspection are its own.
  // Inspected from after its making, so the inspector is not shown this stand-in.
  const system = createActor(fromCallback(() => {})).system as unknown as SharedSystem;
  if (inspect !== undefined) system.inspect(inspect);
  const timers = new WeakMap<AnyActorRef, ArmedTimers>();
  let nextId = 0;
  const scheduler: Scheduler = {
    schedule(source, target, event, delay, id) {
      const key = id ?? `t${++nextId}`;
      let own = timers.get(source);
      if (!own) timers.set(source, (own = new ArmedTimers()));
      const mine = own;
      const timeout = (source as ClockedActor).clock.setTimeout(() => {
        mine.take(key);
        system._relay(source, target, event);
      }, delay);
      mine.arm(key, timeout);
    },
    cancel(source, id) {
      const timeout = timers.get(source)?.take(id);
      if (timeout !== undefined) (source as ClockedActor).clock.clearTimeout(timeout);
    },
    cancelAll(source) {
      const own = timers.get(source);
      if (!own) return;
      for (const timeout of own.all()) (source as ClockedActor).clock.clearTimeout(timeout);
      timers.delete(source);
    },
  };
  system.scheduler = scheduler;
  const _send = (event: { type: string; actorId?: string; error?: unknown }) => {
    if (event.type.startsWith('xstate.error.actor.')) onFailed(event.actorId!, event.error);
  };
  return { system, _send } as unknown as AnyActorRef;
}

/**
 * One actor's armed timers by id. A connection has one armed at a time (its states' delays exclude each
 * other), so the first sits in a slot of its own and a map is made only for a second: most connections wait
 * in line, and this is paid once per waiting visitor.
 */
class ArmedTimers {
  private id: string | null = null;
  private timeout: unknown = undefined;
  private more: Map<string, unknown> | null = null;

  arm(id: string, timeout: unknown): void {
    if (this.id === null || this.id === id) {
      this.id = id;
      this.timeout = timeout;
    } else (this.more ??= new Map()).set(id, timeout);
  }

  /** Forgets the timer armed under `id` and returns its handle (undefined when none is). */
  take(id: string): unknown {
    if (this.id === id) {
      const timeout = this.timeout;
      this.id = null;
      this.timeout = undefined;
      return timeout;
    }
    const timeout = this.more?.get(id);
    this.more?.delete(id);
    return timeout;
  }

  all(): unknown[] {
    const handles = this.more ? [...this.more.values()] : [];
    if (this.id !== null) handles.push(this.timeout);
    return handles;
  }
}

/**
 * Drops what a started connection actor keeps but never reads again: its resolved options (XState 5.33 reads
 * an actor's options only while it starts; they hold its input, which its context has already copied) and
 * its own empty map of emitted-event listeners (a connection machine emits nothing, and nothing listens). One
 * shared stand-in serves every connection, about 650 bytes less per waiting visitor. Call right after `start()`.
 * Listening for an emitted event on a lightened actor throws a TypeError rather than listen to every actor.
 */
export function lightenConnectionActor(actor: AnyActorRef): void {
  const internals = actor as unknown as { options: object; eventListeners: Map<string, unknown> };
  internals.options = startedOptions;
  internals.eventListeners = noEmittedEventListeners;
}

const startedOptions = Object.freeze({});

/** Empty for good: an actor that emits nothing has no listeners to keep. */
class NoEmittedEventListeners extends Map<string, unknown> {
  override set(): this {
    throw new TypeError('a connection actor emits no events to listen for');
  }
}
const noEmittedEventListeners = new NoEmittedEventListeners();

/**
 * Stops a connection actor made with `connectionSystemParent`: what `stop()` does for a root actor (XState
 * refuses `stop()` on an actor with a parent; its parent would stop it, and this one has no machine).
 */
export function stopConnectionActor(actor: AnyActorRef): void {
  (actor as unknown as { _stop(): void })._stop();
}
