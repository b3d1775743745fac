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
 * one costs its own timers, not a scan of the room's. Done and error events a connection would send its
 * parent go nowhere: the runtime observes each actor itself.
 */
export function connectionSystemParent(inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): AnyActorRef {
  // A never-started actor lends its system: built by XState, so registration, relays and inspection are its own.
  // Inspected from after its making, so the inspector is not shown this stand-in.
  const system = createActor(fromCallback(() => {})).system as unknown as SharedSystem;
  if (inspect !== undefined) system.inspect(inspect);
  const timers = new WeakMap<AnyActorRef, Map<string, unknown>>();
  let nextId = 0;
  const scheduler: Scheduler = {
    schedule(source, target, event, delay, id = `t${++nextId}`) {
      let own = timers.get(source);
      if (!own) timers.set(source, (own = new Map()));
      const mine = own;
      const timeout = (source as ClockedActor).clock.setTimeout(() => {
        mine.delete(id);
        system._relay(source, target, event);
      }, delay);
      mine.set(id, timeout);
    },
    cancel(source, id) {
      const own = timers.get(source);
      const timeout = own?.get(id);
      if (timeout === undefined) return;
      own!.delete(id);
      (source as ClockedActor).clock.clearTimeout(timeout);
    },
    cancelAll(source) {
      const own = timers.get(source);
      if (!own) return;
      for (const timeout of own.values()) (source as ClockedActor).clock.clearTimeout(timeout);
      timers.delete(source);
    },
  };
  system.scheduler = scheduler;
  return { system, _send() {} } as unknown as AnyActorRef;
}

/**
 * Stops a connection actor made with `connectionSystemParent`: what `stop()` does for a root actor (XState
 * refuses `stop()` on an actor with a parent; its parent would stop it, and this one has no machine).
 */
export function stopConnectionActor(actor: AnyActorRef): void {
  (actor as unknown as { _stop(): void })._stop();
}
