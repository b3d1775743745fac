import { enqueueActions, setup } from 'xstate';
import { createAdmissionState, type AdmissionSettings, type AdmissionState } from './admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision } from './admission/admission-types.js';
import { step } from './admission/step.js';
import { createChatState, type ChatState } from './chat/chat-state.js';
import type { ChatCommand, ChatDecision, ChatSeed } from './chat/chat-types.js';
import { decideChat } from './chat/decide.js';
import { evolveChat } from './chat/evolve.js';

/** Everything a room decides: about places and seats, and (in a live room) about chat. */
export type RoomDecision = AdmissionDecision | ChatDecision;
/** Everything a room is asked. */
export type RoomCommand = AdmissionCommand | ChatCommand;

/** What a room actor starts with: its name, the admission settings (ms for durations) and its clock. */
export interface RoomInput extends Omit<AdmissionSettings, 'admissionRate' | 'siteSessions' | 'siteSessionTimeoutMs'> {
  room: string;
  /** Most admissions per second (default 0 = no limit). */
  admissionRate?: number;
  /** Seats follow visitors to the site (default false), for `siteSessionTimeoutMs` (default 120000) per refresh. */
  siteSessions?: boolean;
  siteSessionTimeoutMs?: number;
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
  /** A live room (`chat: true`): how many messages it keeps, and where its chat goes on from after a restart. */
  chat?: { historyLimit: number; seed?: ChatSeed };
}

/** The room actor's context: its name, its clock, and the admission state it is the only writer of. */
export interface RoomContext {
  room: string;
  now: () => number;
  /** Held by reference: `evolve` changes it in place, so no event copies the queue. */
  admission: AdmissionState;
  /** A live room's chat, written by `evolveChat` only; null in a room without chat. */
  chat: ChatState | null;
}

/** Commands about one connection or session, and settings: meaningful while the room is open or paused. */
const placeCommands = [
  'join',
  'leave',
  'drop',
  'evict',
  'resume',
  'kick',
  'expireHold',
  'expireSeat',
  'setCapacity',
  'setMaxQueue',
  'setNotice',
  'setAdmissionRate',
  'refreshSite',
  'releaseSite',
  'expireSiteSession',
  'holdForRestart',
  'expireRestartHolds',
  'expireSeatHold',
] as const;

/** Settings an operator may change whatever the status, a closed room included. */
const settingCommands = ['setCapacity', 'setMaxQueue', 'setNotice', 'setAdmissionRate'] as const;

/** The part of XState's `enqueue` that `publish` uses. */
interface Enqueue {
  emit(decision: RoomDecision): void;
  raise(event: RoomCommand, options: { delay: number; id: string }): void;
}

/** Decides a chat command, applies and emits each decision, and arms typing's stop on the room clock. */
function applyChat(chat: ChatState, command: ChatCommand, now: number, enqueue: Enqueue): void {
  for (const decision of decideChat(chat, command, now)) {
    evolveChat(chat, decision);
    enqueue.emit(decision);
    if (decision.type !== 'typingExtended' && decision.type !== 'typingChanged') continue;
    const { user, until } = decision;
    if (until !== null) enqueue.raise({ type: 'chat.typingExpire', user, until }, { delay: until - now, id: `typing:${user}:${until}` });
  }
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
    } else if (decision.type === 'seatKept' || decision.type === 'siteRefreshed') {
      const expire = { type: 'expireSiteSession', session: decision.session, until: decision.until } as const;
      enqueue.raise(expire, { delay: decision.until - now, id: `site:${decision.session}:${decision.until}` });
    } else if (decision.type === 'paced') {
      enqueue.raise({ type: 'promote' }, { delay: decision.dueAt - now, id: `pace:${decision.dueAt}` });
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

const on = <T, E extends string>(events: readonly E[], transition: T) => Object.fromEntries(events.map((event) => [event, transition])) as Record<E, T>;

/**
 * The room admission actor: the only writer of seats and queue. Commands arrive through its mailbox one at a
 * time; `decide` makes the decisions and `evolve` applies them (`applyCommand`), and every decision is
 * emitted (`actor.on('*', …)`). While open, every command is followed by `promoteHead`, which gives free seats
 * to the head of the line as fast as the admission rate allows (a `promote` the room raised for itself when
 * the rate was spent); paused, the line waits; under maintenance, seats are ended and the line waits; closed,
 * newcomers are turned away; scheduled, arrivals gather in a pre-queue until the draw opens the room. Every
 * status but `scheduled` can be left for any other.
 */
export const roomMachine = setup({
  types: {
    input: {} as RoomInput,
    context: {} as RoomContext,
    events: {} as RoomCommand,
    emitted: {} as RoomDecision,
  },
  actions: {
    applyChat: enqueueActions(({ context, event, enqueue }) => {
      if (context.chat !== null) applyChat(context.chat, event as ChatCommand, context.now(), enqueue);
    }),
    applyCommand: enqueueActions(({ context, event, enqueue }) => {
      const now = context.now();
      publish(step(context.admission, event as AdmissionCommand, now), now, enqueue);
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
    chat: input.chat ? createChatState(input.chat.historyLimit, input.chat.seed) : null,
  }),
  initial: 'open',
  // Chat is the same in every status: who may chat is decided by membership, which admission decisions drive.
  on: {
    'chat.join': { actions: 'applyChat' },
    'chat.leave': { actions: 'applyChat' },
    'chat.say': { actions: 'applyChat' },
    'chat.typing': { actions: 'applyChat' },
    'chat.typingExpire': { actions: 'applyChat' },
  },
  states: {
    // Before `opensAt`: arrivals gather in the pre-queue; the draw (or an operator's open) opens the room.
    scheduled: {
      on: {
        ...on(placeCommands, { actions: 'applyCommand' }),
        open: { target: 'open', actions: ['applyCommand', 'promoteHead'] },
        draw: { target: 'open', actions: ['applyCommand', 'promoteHead'] },
        pause: { target: 'paused', actions: 'applyCommand' },
        maintenance: { target: 'maintenance', actions: 'applyCommand' },
        close: { target: 'closed', actions: 'applyCommand' },
      },
    },
    open: {
      on: {
        ...on(placeCommands, { actions: ['applyCommand', 'promoteHead'] }),
        promote: { actions: 'promoteHead' },
        schedule: { target: 'scheduled', actions: 'applyCommand' },
        draw: { actions: ['applyCommand', 'promoteHead'] },
        pause: { target: 'paused', actions: 'applyCommand' },
        maintenance: { target: 'maintenance', actions: 'applyCommand' },
        close: { target: 'closed', actions: 'applyCommand' },
      },
    },
    paused: {
      on: {
        ...on(placeCommands, { actions: 'applyCommand' }),
        open: { target: 'open', actions: ['applyCommand', 'promoteHead'] },
        draw: { actions: 'applyCommand' },
        maintenance: { target: 'maintenance', actions: 'applyCommand' },
        close: { target: 'closed', actions: 'applyCommand' },
      },
    },
    // Like paused, but entered by ending every seat; new arrivals still queue.
    maintenance: {
      on: {
        ...on(placeCommands, { actions: 'applyCommand' }),
        open: { target: 'open', actions: ['applyCommand', 'promoteHead'] },
        draw: { actions: 'applyCommand' },
        pause: { target: 'paused', actions: 'applyCommand' },
        close: { target: 'closed', actions: 'applyCommand' },
      },
    },
    // Not final: a closed room still answers joins (with `rejected`) and can be reopened.
    closed: {
      on: {
        join: { actions: 'applyCommand' },
        ...on(settingCommands, { actions: 'applyCommand' }),
        draw: { actions: 'applyCommand' },
        open: { target: 'open', actions: ['applyCommand', 'promoteHead'] },
        pause: { target: 'paused', actions: 'applyCommand' },
        maintenance: { target: 'maintenance', actions: 'applyCommand' },
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
    context: {
      room: input.room,
      now: input.now,
      admission: input.recovered,
      chat: input.chat ? createChatState(input.chat.historyLimit, input.chat.seed) : null,
    },
  });
}
