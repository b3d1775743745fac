import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent, MachineContext } from 'xstate';

/** The part of a `@statelyai/inspect` inspector that actors report to. */
export interface InspectionSink {
  inspect: { next?: (event: InspectionEvent) => void };
}

/** Inspection events the Stately inspector shows; microsteps and actions are left out. */
const forwardedTypes: ReadonlySet<string> = new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);

/**
 * The `inspect` callback for the actors (createAnteroomServer's `inspect` option): forwards actor
 * registrations, events and snapshots to an inspector. A room's snapshot is sent with its seats and queue
 * summarized as counts: the queue structure is large and would be serialized on every event.
 */
export function forwardInspection(sink: InspectionSink): (event: InspectionEvent) => void {
  return (event) => {
    if (!forwardedTypes.has(event.type)) return;
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as { context?: unknown };
      if (snapshot.context !== undefined) {
        event = { ...event, snapshot: { ...snapshot, context: summarizeContext(snapshot.context as MachineContext) } as unknown as typeof event.snapshot };
      }
    }
    sink.inspect.next?.(event);
  };
}

/** A machine context as the inspector shows it: a room's admission state becomes its counts. */
export function summarizeContext(context: MachineContext): MachineContext {
  const admission = (context as { admission?: unknown }).admission as
    | { capacity: number; maxQueue: number; status: string; seats: Map<unknown, unknown>; queue: { size: number; liveCount: number } }
    | undefined;
  if (admission === undefined || !(admission.seats instanceof Map)) return context;
  return {
    ...context,
    admission: {
      status: admission.status,
      capacity: admission.capacity,
      maxQueue: admission.maxQueue,
      active: admission.seats.size,
      queued: admission.queue.size,
      held: admission.queue.size - admission.queue.liveCount,
    },
  };
}

/**
 * An inspector that sends to a WebSocket (the inspector bridge) with `@statelyai/inspect`'s
 * `createWebSocketInspector`. Events before the socket opens are kept (up to `maxDeferredEvents`).
 */
export function createBridgeInspector(url: string): InspectionSink & { stop(): void } {
  return createWebSocketInspector({ url, sanitizeContext: summarizeContext, maxDeferredEvents: 2000 });
}
