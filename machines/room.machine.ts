import { enqueueActions, setup } from 'xstate';
import { createAdmissionState, type AdmissionSettings, type AdmissionState } from './admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision } from './admission/admission-types.js';
import { step } from './admission/step.js';

export interface RoomInput extends AdmissionSettings {
  room: string;
  /**
   * The time of the input being handled (ms epoch): the wall clock live, the recorded time in replay. Due
   * times in decisions (`held.expiresAt`, `admitted.ttlUntil`) are counted from it.
   */
  now: () => number;
  /**
   * The admission state a restart recovered (from a snapshot and the log): the room starts from it, in the
   * state its status names, instead of empty and open. Held by reference, like any admission state.
   */
  recovered?: AdmissionState;
}

export interface RoomContext {
  room: string;
  now: () => number;
  /** Held by reference: `evolve` changes it in place, so no event copies the queue. */
  admission: AdmissionState;
}

/** Commands about one connection or session, and settings: meaningful while the room is open or paused. */
const placeCommands = ['join', 'leave', 'drop', 'evict', 'resume', 'kick', 'expireHold', 'expireSeat', 'setCapacity', 'setMaxQueue', 'holdForRestart', 'expireRestartHolds', 'expireSeatHold'] as const;

/** The part of XState's `enqueue` that `publish` uses. */
interface Enqueue {
  emit(decision: AdmissionDecision): void;
  raise(event: AdmissionCommand, options: { delay: number; id: string }): void;
}

/**
 * Emits each decision for the edge and the event log, and turns due times into delayed events on the actor
 * clock: a held place's `expireHold` and a seat's `expireSeat`. A timer that outlives what it was armed for
 * (the place was resumed, the seat left) decides nothing when it fires, so none is cancelled.
 */
function publish(decisions: AdmissionDecision[], now: number, enqueue: Enqueue): void {
  for (const decision of decisions) {
    enqueue.emit(decision);
    if (decision.type === 'held') {
      const expire = { type: 'expireHold', session: decision.session, expiresAt: decision.expiresAt } as const;
      enqueue.raise(expire, { delay: decision.expiresAt - now, id: `hold:${decision.session}:${decision.expiresAt}` });
    } else if (decision.type === 'admitted' && decision.ttlUntil !== null) {
      const expire = { type: 'expireSeat', conn: decision.conn, ttlUntil: decision.ttlUntil } as const;
      enqueue.raise(expire, { delay: decision.ttlUntil - now, id: `ttl:${decision.conn}` });
    } else if (decision.type === 'seatResumed' && decision.ttlUntil !== null) {
      // The seat keeps its session limit; a limit that passed while it was held ends it at once.
      const expire = { type: 'expireSeat', conn: decision.conn, ttlUntil: decision.ttlUntil } as const;
      enqueue.raise(expire, { delay: Math.max(0, decision.ttlUntil - now), id: `ttl:${decision.conn}` });
    } else if (decision.type === 'seatHeld') {
      const expire = { type: 'expireSeatHold', session: decision.session, expiresAt: decision.expiresAt } as const;
      enqueue.raise(expire, { delay: decision.expiresAt - now, id: `seat:${decision.session}:${decision.expiresAt}` });
    } else if (decision.type === 'heldForRestart') {
      const expire = { type: 'expireRestartHolds', expiresAt: decision.expiresAt } as const;
      enqueue.raise(expire, { delay: decision.expiresAt - now, id: `restart:${decision.expiresAt}` });
    }
  }
}

const on = <T>(events: readonly string[], transition: T) => Object.fromEntries(events.map((event) => [event, transition])) as Record<(typeof placeCommands)[number], T>;

/**
 * The room admission actor: the only writer of seats and queue. Commands arrive through its mailbox one at a
 * time; `decide` makes the decisions and `evolve` applies them (`applyCommand`), and every decision is
 * emitted (`actor.on('*', …)`). While open, every command is followed by `promoteHead`, which gives free seats
 * to the head of the line; paused, the line waits; closed, newcomers are turned away.
 */
export const roomMachine = setup({
  types: {
    input: {} as RoomInput,
    context: {} as RoomContext,
    events: {} as AdmissionCommand,
    emitted: {} as AdmissionDecision,
  },
  actions: {
    applyCommand: enqueueActions(({ context, event, enqueue }) => {
      const now = context.now();
      publish(step(context.admission, event, now), now, enqueue);
    }),
    promoteHead: enqueueActions(({ context, enqueue }) => {
      const now = context.now();
      publish(step(context.admission, { type: 'promote' }, now), now, enqueue);
    }),
  },
}).createMachine({
  id: 'room',
  context: ({ input }) => ({
    room: input.room,
    now: input.now,
    admission: input.recovered ?? createAdmissionState(input),
  }),
  initial: 'open',
  states: {
    open: {
      on: {
        ...on(placeCommands, { actions: ['applyCommand', 'promoteHead'] }),
        pause: { target: 'paused', actions: 'applyCommand' },
        close: { target: 'closed', actions: 'applyCommand' },
      },
    },
    paused: {
      on: {
        ...on(placeCommands, { actions: 'applyCommand' }),
        open: { target: 'open', actions: ['applyCommand', 'promoteHead'] },
        close: { target: 'closed', actions: 'applyCommand' },
      },
    },
    // Not final: a closed room still answers joins (with `rejected`) until the edge stops it.
    closed: {
      on: {
        join: { actions: 'applyCommand' },
        setCapacity: { actions: 'applyCommand' },
        setMaxQueue: { actions: 'applyCommand' },
      },
    },
  },
});

/**
 * The room actor's starting snapshot for a recovered room: the recovered admission state, in the machine state
 * its status names (`open`, `paused` or `closed`), so the states keep owning behaviour after a restart. Pass it
 * as `createActor(roomMachine, { input, snapshot })`.
 */
export function recoveredRoomSnapshot(input: RoomInput & { recovered: AdmissionState }) {
  return roomMachine.resolveState({
    value: input.recovered.status,
    context: { room: input.room, now: input.now, admission: input.recovered },
  });
}
