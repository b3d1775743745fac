import { assign, setup } from 'xstate';
import { closeReasonForEviction, type CloseReasonName, type EvictionReason } from './close-reasons.js';

/** What a connection actor starts with: its ids and the room's timing for it (all durations in ms). */
export interface ConnectionInput {
  conn: string;
  session: string;
  room: string;
  /** An active session silent this long is evicted, ms. */
  heartbeatTimeoutMs: number;
  /** Queued sessions are probed with a WebSocket ping frame this often, ms; two silent probes drop them. */
  queuePingMs: number;
  /** How long to wait for the peer to finish the close handshake before cutting the socket, ms. */
  closeTimeoutMs: number;
  /** How long a connection the full line turned away may still present `resume` before it is closed, ms. */
  resumeGraceMs: number;
  /**
   * The session of the place a resume token presented at the upgrade names: the place is asked for as the
   * connection joins. null: the token presented is not valid; undefined: none presented.
   */
  resume?: string | null;
}

/** The connection actor's context: its input, plus probe and close bookkeeping. */
export interface ConnectionContext extends ConnectionInput {
  /** Probes sent while queued with no pong or message since. */
  unansweredProbes: number;
  /** Why the connection is closing, once it is (a row of the close-reason table). */
  closeReason: CloseReasonName | null;
}

/** A well-formed client message, as the edge parsed it. Each counts as a heartbeat. */
export type ClientMessageEvent =
  | { type: 'ping' }
  | { type: 'leave' }
  /** `session`: the session the resume token names, or null when the token is not valid. */
  | { type: 'resume'; session: string | null };

/** What the room decided about this connection. */
export type RoomVerdictEvent =
  | { type: 'placed.queued'; position: number; queueLength: number }
  | { type: 'placed.active' }
  /** A `resume` moved the connection into a held place, under that place's session. */
  | { type: 'resumed'; session: string; position: number; queueLength: number }
  | { type: 'resumeRefused' }
  /** A `resume` gave this connection the seat held for `session` (after a restart). */
  | { type: 'seatResumed'; session: string }
  | { type: 'rejected'; reason: 'queue_full' | 'room_closed' }
  | { type: 'evicted'; reason: EvictionReason };

/** Every event a connection actor handles: client messages, the room's verdicts, and what the socket did. */
export type ConnectionEvent =
  | ClientMessageEvent
  | RoomVerdictEvent
  /** A WebSocket pong frame arrived. */
  | { type: 'pong' }
  /** A well-formed message the connection does not handle itself (chat, `hello`, `history`): a heartbeat. */
  | { type: 'activity' }
  /** The server closes the connection for what the client did (a binary frame, a flood, a protocol error). */
  | { type: 'fault'; reason: CloseReasonName }
  /** The socket could not keep up with what it was sent: treated as a drop. */
  | { type: 'overflow' }
  | { type: 'socket.closed'; code: number };

const rejectionReason = { queue_full: 'queueFull', room_closed: 'roomClosed' } as const satisfies Record<string, CloseReasonName>;

/**
 * One machine per WebSocket connection: `connecting → open.{queued, active} → closing → closed`.
 * It decides when its own session is dead (heartbeat and probe timers are `after` transitions on the actor
 * clock), tells the room through provided actions, and decides how the socket closes from the close-reason
 * table; it never touches a socket itself. From the moment it enters `closing`, the room has been told the
 * connection is gone: a close the server decides takes effect at once, not when the peer answers.
 */
export const connectionMachine = setup({
  types: {
    input: {} as ConnectionInput,
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
  },
  delays: {
    heartbeatTimeout: ({ context }) => context.heartbeatTimeoutMs,
    queuePing: ({ context }) => context.queuePingMs,
    closeTimeout: ({ context }) => context.closeTimeoutMs,
    resumeGrace: ({ context }) => context.resumeGraceMs,
  },
  guards: {
    probeUnanswered: ({ context }) => context.unansweredProbes > 0,
    resumeTokenInvalid: ({ event }) => event.type === 'resume' && event.session === null,
    /** Turned away by a full line, and it has not yet said which place it comes back for. */
    mayStillResume: ({ context, event }) => event.type === 'rejected' && event.reason === 'queue_full' && context.resume === undefined,
    /** A resume token presented at the upgrade was not valid: answered once placed, as a `resume` would be. */
    presentedInvalidResume: ({ context }) => context.resume === null,
  },
  actions: {
    // Room-facing: the edge wires these to the room actor.
    requestPlace: () => {},
    reportLeave: () => {},
    reportResume: (_, _params: { session: string }) => {},
    reportHeartbeatExpired: () => {},
    /** The server closes the connection: the room releases or holds the place as the reason's row says. */
    reportFault: (_, _params: { reason: CloseReasonName }) => {},
    reportSocketClosed: (_, _params: { code: number }) => {},
    reportOverflow: () => {},
    // Socket-facing: the edge wires these to the WebSocket.
    sendQueuedStatus: (_, _params: { position: number; queueLength: number }) => {},
    sendAdmission: () => {},
    refuseResume: () => {},
    /** Tells the client why it is being closed (the `evicted` message, when the reason has one) and closes. */
    closeSocket: (_, _params: { reason: CloseReasonName }) => {},
    sendPingFrame: () => {},
    terminateSocket: () => {},
    /** The actor is done: the edge forgets it. */
    connectionEnded: () => {},
    countProbe: assign({ unansweredProbes: ({ context }) => context.unansweredProbes + 1 }),
    clearProbes: assign({ unansweredProbes: 0 }),
    adoptSession: assign({ session: (_, params: { session: string }) => params.session }),
    rememberResume: assign({ resume: (_, params: { session: string }) => params.session }),
    markClosing: assign({ closeReason: (_, params: { reason: CloseReasonName }) => params.reason }),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ ...input, unansweredProbes: 0, closeReason: null }),
  initial: 'connecting',
  on: {
    evicted: { target: '.closing', actions: { type: 'markClosing', params: ({ event }) => ({ reason: closeReasonForEviction[event.reason] }) } },
    fault: {
      target: '.closing',
      actions: [
        { type: 'reportFault', params: ({ event }) => ({ reason: event.reason }) },
        { type: 'markClosing', params: ({ event }) => ({ reason: event.reason }) },
      ],
    },
    'socket.closed': { target: '.closed', actions: { type: 'reportSocketClosed', params: ({ event }) => ({ code: event.code }) } },
  },
  states: {
    connecting: {
      entry: 'requestPlace',
      on: {
        'placed.queued': [
          {
            guard: 'presentedInvalidResume',
            target: 'open.queued',
            actions: [{ type: 'sendQueuedStatus', params: ({ event }) => ({ position: event.position, queueLength: event.queueLength }) }, 'refuseResume'],
          },
          {
            target: 'open.queued',
            actions: { type: 'sendQueuedStatus', params: ({ event }) => ({ position: event.position, queueLength: event.queueLength }) },
          },
        ],
        'placed.active': [{ guard: 'presentedInvalidResume', target: 'open.active', actions: 'refuseResume' }, { target: 'open.active' }],
        resumed: {
          target: 'open.queued',
          actions: [
            { type: 'adoptSession', params: ({ event }) => ({ session: event.session }) },
            { type: 'sendQueuedStatus', params: ({ event }) => ({ position: event.position, queueLength: event.queueLength }) },
          ],
        },
        seatResumed: { target: 'open.active', actions: { type: 'adoptSession', params: ({ event }) => ({ session: event.session }) } },
        rejected: [
          { guard: 'mayStillResume', target: 'turnedAway' },
          {
            guard: 'presentedInvalidResume',
            target: 'closing',
            actions: ['refuseResume', { type: 'markClosing', params: ({ event }) => ({ reason: rejectionReason[event.reason] }) }],
          },
          { target: 'closing', actions: { type: 'markClosing', params: ({ event }) => ({ reason: rejectionReason[event.reason] }) } },
        ],
      },
    },
    // The line is full, but a client coming back for its held place sends `resume` as its first message: it is
    // given a moment to say so before it is closed with 4003.
    turnedAway: {
      on: {
        resume: [
          { guard: 'resumeTokenInvalid', target: 'closing', actions: ['refuseResume', { type: 'markClosing', params: { reason: 'queueFull' } }] },
          { target: 'connecting', actions: { type: 'rememberResume', params: ({ event }) => ({ session: event.session! }) } },
        ],
        leave: { target: 'closing', actions: { type: 'markClosing', params: { reason: 'left' } } },
      },
      after: { resumeGrace: { target: 'closing', actions: { type: 'markClosing', params: { reason: 'queueFull' } } } },
    },
    open: {
      initial: 'queued',
      on: {
        leave: { target: 'closing', actions: ['reportLeave', { type: 'markClosing', params: { reason: 'left' } }] },
        resumeRefused: { actions: 'refuseResume' },
        // Entered afresh so the admission under the held seat's session is sent, from the line or a fresh seat.
        seatResumed: { target: '.active', reenter: true, actions: { type: 'adoptSession', params: ({ event }) => ({ session: event.session }) } },
        overflow: { target: 'closed', actions: ['reportOverflow', 'terminateSocket'] },
      },
      states: {
        queued: {
          initial: 'listening',
          on: {
            'placed.active': 'active',
            resumed: {
              actions: [
                { type: 'adoptSession', params: ({ event }) => ({ session: event.session }) },
                { type: 'sendQueuedStatus', params: ({ event }) => ({ position: event.position, queueLength: event.queueLength }) },
              ],
            },
            // Most heartbeats find no probe to clear: taking no transition then spares a new snapshot each.
            ping: { guard: 'probeUnanswered', actions: 'clearProbes' },
            pong: { guard: 'probeUnanswered', actions: 'clearProbes' },
            activity: { guard: 'probeUnanswered', actions: 'clearProbes' },
            resume: [
              { guard: 'resumeTokenInvalid', actions: ['clearProbes', 'refuseResume'] },
              { actions: ['clearProbes', { type: 'reportResume', params: ({ event }) => ({ session: event.session! }) }] },
            ],
          },
          states: {
            listening: {
              after: {
                queuePing: [
                  {
                    guard: 'probeUnanswered',
                    target: '#connection.closing',
                    actions: ['reportHeartbeatExpired', { type: 'markClosing', params: { reason: 'heartbeatTimeout' } }],
                  },
                  { target: 'listening', reenter: true, actions: ['sendPingFrame', 'countProbe'] },
                ],
              },
            },
          },
        },
        active: {
          entry: 'sendAdmission',
          initial: 'alive',
          states: {
            alive: {
              on: {
                ping: { target: 'alive', reenter: true },
                activity: { target: 'alive', reenter: true },
                resume: [
                  { guard: 'resumeTokenInvalid', target: 'alive', reenter: true, actions: 'refuseResume' },
                  { target: 'alive', reenter: true, actions: { type: 'reportResume', params: ({ event }) => ({ session: event.session! }) } },
                ],
              },
              after: {
                heartbeatTimeout: {
                  target: '#connection.closing',
                  actions: ['reportHeartbeatExpired', { type: 'markClosing', params: { reason: 'heartbeatTimeout' } }],
                },
              },
            },
          },
        },
      },
    },
    closing: {
      entry: { type: 'closeSocket', params: ({ context }) => ({ reason: context.closeReason ?? 'left' }) },
      after: { closeTimeout: { target: 'closed', actions: 'terminateSocket' } },
      on: {
        // Already gone as far as the room knows; what the peer still does changes nothing.
        evicted: {},
        fault: {},
        'socket.closed': 'closed',
      },
    },
    closed: { type: 'final', entry: 'connectionEnded' },
  },
});

