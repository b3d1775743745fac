import { assign, setup } from 'xstate';
import { CloseCode, closeCodeForEviction, type EvictionReason } from '../src/protocol/codes.js';

export interface ConnectionInput {
  conn: string;
  session: string;
  room: string;
  /** An active session silent this long is evicted. */
  heartbeatTimeoutMs: number;
  /** Queued sessions are probed with a WebSocket ping frame this often; two silent probes drop them. */
  queuePingMs: number;
  /** How long to wait for the peer to finish the close handshake before terminating the socket. */
  closeTimeoutMs: number;
}

export interface ConnectionContext extends ConnectionInput {
  /** Probes sent while queued with no pong or message since. */
  unansweredProbes: number;
  closeCode: number | null;
  evictionReason: EvictionReason | null;
}

export type ConnectionEvent =
  /** The room put the connection in line (`position` as decided). */
  | { type: 'placed.queued'; position: number; queueLength: number }
  /** The room gave the connection a seat. */
  | { type: 'placed.active' }
  /** A `resume` moved the connection into a held place, under another session id. */
  | { type: 'resumed'; session: string; position: number; queueLength: number }
  /** A well-formed message arrived: it counts as a heartbeat. */
  | { type: 'activity' }
  /** A WebSocket pong frame arrived. */
  | { type: 'pong' }
  /** The client asked to leave. */
  | { type: 'leave' }
  /** The room (or the server, on shutdown) ends the session with a reason the client is told. */
  | { type: 'evict'; reason: EvictionReason }
  /** The room confirmed a leave. */
  | { type: 'release' }
  | { type: 'reject'; reason: 'queue_full' | 'room_closed' }
  /** The socket could not keep up with what it was sent: treated as a drop. */
  | { type: 'overflow' }
  | { type: 'socket.closed'; code: number };

/**
 * One machine per WebSocket connection: `connecting → open.{queued, active} → closing → closed`.
 * It decides when its own session is dead (heartbeat and probe timers are `after` transitions on the actor
 * clock) and tells the room through provided actions; it never touches a socket itself.
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
  },
  guards: {
    probeUnanswered: ({ context }) => context.unansweredProbes > 0,
  },
  actions: {
    // Room-facing: the edge wires these to the room actor.
    requestPlace: () => {},
    requestLeave: () => {},
    reportHeartbeatExpired: () => {},
    reportSocketClosed: (_, _params: { code: number }) => {},
    reportOverflow: () => {},
    // Socket-facing: the edge wires these to the WebSocket.
    sendQueuedStatus: (_, _params: { position: number; queueLength: number }) => {},
    sendAdmission: () => {},
    /** Tells the client why it is being closed; `reason` is null for a close that is not an eviction. */
    sendEvicted: (_, _params: { reason: EvictionReason | null }) => {},
    sendPingFrame: () => {},
    closeSocket: (_, _params: { code: number }) => {},
    terminateSocket: () => {},
    /** The actor is done: the edge forgets it. */
    connectionEnded: () => {},
    countProbe: assign({ unansweredProbes: ({ context }) => context.unansweredProbes + 1 }),
    clearProbes: assign({ unansweredProbes: 0 }),
    adoptSession: assign({ session: (_, params: { session: string }) => params.session }),
    markEvicted: assign((_, params: { reason: EvictionReason }) => ({
      evictionReason: params.reason,
      closeCode: closeCodeForEviction[params.reason],
    })),
    markClosing: assign((_, params: { code: number }) => ({ closeCode: params.code })),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ ...input, unansweredProbes: 0, closeCode: null, evictionReason: null }),
  initial: 'connecting',
  states: {
    connecting: {
      entry: 'requestPlace',
      on: {
        'placed.queued': {
          target: 'open.queued',
          actions: { type: 'sendQueuedStatus', params: ({ event }) => ({ position: event.position, queueLength: event.queueLength }) },
        },
        'placed.active': 'open.active',
        reject: {
          target: 'closing',
          actions: {
            type: 'markClosing',
            params: ({ event }) => ({ code: event.reason === 'queue_full' ? CloseCode.queueFull : CloseCode.roomClosed }),
          },
        },
        evict: { target: 'closing', actions: { type: 'markEvicted', params: ({ event }) => ({ reason: event.reason }) } },
        'socket.closed': { target: 'closed', actions: { type: 'reportSocketClosed', params: ({ event }) => ({ code: event.code }) } },
      },
    },
    open: {
      initial: 'queued',
      on: {
        leave: { actions: 'requestLeave' },
        release: { target: 'closing', actions: { type: 'markClosing', params: { code: CloseCode.normal } } },
        evict: { target: 'closing', actions: { type: 'markEvicted', params: ({ event }) => ({ reason: event.reason }) } },
        overflow: { target: 'closed', actions: ['reportOverflow', 'terminateSocket'] },
        'socket.closed': { target: 'closed', actions: { type: 'reportSocketClosed', params: ({ event }) => ({ code: event.code }) } },
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
            activity: { actions: 'clearProbes' },
            pong: { actions: 'clearProbes' },
          },
          states: {
            listening: {
              after: {
                queuePing: [
                  {
                    guard: 'probeUnanswered',
                    target: '#connection.closing',
                    actions: ['reportHeartbeatExpired', { type: 'markEvicted', params: { reason: 'heartbeat_timeout' } }],
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
              on: { activity: { target: 'alive', reenter: true } },
              after: {
                heartbeatTimeout: {
                  target: '#connection.closing',
                  actions: ['reportHeartbeatExpired', { type: 'markEvicted', params: { reason: 'heartbeat_timeout' } }],
                },
              },
            },
          },
        },
      },
    },
    closing: {
      entry: [
        {
          type: 'sendEvicted',
          params: ({ context }) => ({ reason: context.evictionReason }),
        },
        { type: 'closeSocket', params: ({ context }) => ({ code: context.closeCode ?? CloseCode.normal }) },
      ],
      after: { closeTimeout: { target: 'closed', actions: 'terminateSocket' } },
      on: { 'socket.closed': 'closed' },
    },
    closed: { type: 'final', entry: 'connectionEnded' },
  },
});
