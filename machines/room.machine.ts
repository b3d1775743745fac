import { enqueueActions, setup } from 'xstate';
import { createAdmissionState, type AdmissionState } from './admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision, ConnId, SessionId } from './admission/admission-types.js';
import { executeAdmission } from './admission/execute-admission.js';

export interface RoomInput {
  room: string;
  capacity: number;
  maxQueue: number;
  /** How long a dropped waiter's place is held for a `resume`. */
  resumeWindowMs: number;
  /** How long an admitted session may stay; 0 = no limit. */
  sessionTtlMs: number;
}

export interface RoomContext {
  room: string;
  resumeWindowMs: number;
  sessionTtlMs: number;
  /** Held by reference: the admission rules mutate it in place, so no event copies the queue. */
  admission: AdmissionState;
}

const holdTimerId = (session: SessionId) => `hold:${session}`;
const sessionTimerId = (conn: ConnId) => `ttl:${conn}`;

/**
 * The room admission actor: the only writer of seats and queue. Commands arrive through its mailbox one at a
 * time; each is applied by `executeAdmission` and every decision is emitted (`actor.on('*', …)`) for the edge
 * to act on and the event log to record. Hold and session expiry are delayed events on the actor clock.
 */
export const roomMachine = setup({
  types: {
    input: {} as RoomInput,
    context: {} as RoomContext,
    events: {} as AdmissionCommand,
    emitted: {} as AdmissionDecision,
  },
  guards: {
    roomIsOpen: ({ context }) => context.admission.status === 'open',
    roomIsPaused: ({ context }) => context.admission.status === 'paused',
    roomIsClosed: ({ context }) => context.admission.status === 'closed',
  },
  actions: {
    executeCommand: enqueueActions(({ context, event, enqueue }) => {
      for (const decision of executeAdmission(context.admission, event)) {
        enqueue.emit(decision);
        // Arm or disarm the timers a decision implies: a dropped waiter's hold and a seat's TTL.
        const timer = expiryTimerFor(context, decision);
        if (timer?.arm) enqueue.raise(timer.arm, { delay: timer.delay, id: timer.id });
        else if (timer) enqueue.cancel(timer.id);
      }
    }),
  },
}).createMachine({
  id: 'room',
  context: ({ input }) => ({
    room: input.room,
    resumeWindowMs: input.resumeWindowMs,
    sessionTtlMs: input.sessionTtlMs,
    admission: createAdmissionState({ capacity: input.capacity, maxQueue: input.maxQueue }),
  }),
  initial: 'open',
  on: { '*': { actions: 'executeCommand' } },
  states: {
    open: {
      always: [
        { guard: 'roomIsPaused', target: 'paused' },
        { guard: 'roomIsClosed', target: 'closed' },
      ],
    },
    paused: {
      always: [
        { guard: 'roomIsOpen', target: 'open' },
        { guard: 'roomIsClosed', target: 'closed' },
      ],
    },
    // Not final: a closed room still answers joins (with `rejected`) until the edge stops it.
    closed: {},
  },
});

type ExpiryTimer = { id: string; arm?: AdmissionCommand; delay?: number };

function expiryTimerFor(context: RoomContext, decision: AdmissionDecision): ExpiryTimer | null {
  switch (decision.type) {
    case 'held':
      return { id: holdTimerId(decision.session), arm: { type: 'expireHold', session: decision.session }, delay: context.resumeWindowMs };
    case 'resumed':
      return { id: holdTimerId(decision.session) };
    case 'released':
      if (decision.from === 'queue' && decision.conn === null) return { id: holdTimerId(decision.session) };
      if (decision.from === 'seat' && decision.conn !== null && context.sessionTtlMs > 0) return { id: sessionTimerId(decision.conn) };
      return null;
    case 'evicted':
      return decision.from === 'seat' && context.sessionTtlMs > 0 ? { id: sessionTimerId(decision.conn) } : null;
    case 'admitted':
      return context.sessionTtlMs > 0
        ? { id: sessionTimerId(decision.conn), arm: { type: 'expireSession', conn: decision.conn }, delay: context.sessionTtlMs }
        : null;
    default:
      return null;
  }
}
