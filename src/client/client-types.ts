import type { ErrorCode, EvictionReason } from '../protocol/codes.js';
import type { ActiveStatus, QueuedStatus } from '../protocol/messages.js';
import type { BackoffOptions } from './backoff.js';
import type { ResumeStore } from './resume-store.js';

/** The public types of the waiting-room client: options, events and the WebSocket surface it needs. */

// Method syntax makes handler parameters bivariant, so both the DOM WebSocket and `ws` fit this shape.
type SocketHandler<E> = { handle(event: E): void }['handle'];

/** The part of the WHATWG WebSocket API the client uses. The DOM `WebSocket` and `ws` both satisfy it. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: SocketHandler<unknown> | null;
  onmessage: SocketHandler<{ data: unknown }> | null;
  onclose: SocketHandler<{ code: number; reason: string }> | null;
  onerror: SocketHandler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor such as `globalThis.WebSocket` or the default export of `ws`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * Lifecycle of a {@link WaitingRoomClient}:
 * - `connecting`: the first connection is opening, or open and waiting for its first `status`;
 * - `queued`: waiting in line;
 * - `active`: admitted to a seat;
 * - `reconnecting`: the connection dropped and the client is waiting out its backoff or reopening;
 * - `closed`: not connected and not going to reconnect until {@link WaitingRoomClient.connect} is called.
 */
export type ClientState = 'connecting' | 'queued' | 'active' | 'reconnecting' | 'closed';

/** Payload of the `position` event, from every queued `status`. */
export interface PositionUpdate {
  /** Place in line, 1 = next to be admitted; null in the pre-queue, before the room's draw. */
  position: number | null;
  queueLength: number;
  /** The server's estimate of the wait, or `null` when it has none. */
  etaMs: number | null;
  /** The room's status (`open` from a server that does not say). */
  roomStatus: string;
  /** The operator's notice, or null. */
  notice: string | null;
  /** In the pre-queue: the place is drawn at `opensAt`. */
  preQueue: boolean;
  /** When the room opens (ms epoch), while it is scheduled; else null. */
  opensAt: number | null;
  /** The place's priority from a join ticket; 0 without one. */
  priority: number;
}

/** Payload of the `room` event: the room's status or notice changed. */
export interface RoomChange {
  status: string;
  notice: string | null;
}

/** Payload of the `admitted` event. */
export interface Admission {
  session: string;
  /** The admission JWT to hand to the protected site. */
  token: string;
  /** When `token` expires, in ms since the epoch. */
  expiresAt: number;
}

/** Payload of the `token` event: a fresh admission token while active. */
export interface TokenRefresh {
  token: string;
  expiresAt: number;
}

/** Payload of the `evicted` event. Reasons a newer server adds are passed through as strings. */
export interface Eviction {
  reason: EvictionReason | (string & {});
}

/** Payload of the `error` event: the server refused a message. The connection stays open unless a close follows. */
export interface ServerError {
  code: ErrorCode | (string & {});
  message: string;
  /** With `rate_limited`: how long to wait before sending again. */
  retryAfterMs?: number;
}

/** Payload of the `close` event, emitted once for each connection that ends. */
export interface ConnectionClose {
  /** WebSocket close code; 1006 when the connection dropped without a close frame. */
  code: number;
  reason: string;
  /** Whether a reconnect is scheduled. */
  willReconnect: boolean;
}

/** Events of a {@link WaitingRoomClient}, with their listener arguments. */
export interface WaitingRoomClientEvents {
  /** The client moved to a new {@link ClientState}. */
  state: [state: ClientState];
  /** Every `status` message, as received. */
  status: [status: QueuedStatus | ActiveStatus];
  /** Every queued `status`: the place in line. */
  position: [update: PositionUpdate];
  /** The room's status or notice changed (`room` message). */
  room: [change: RoomChange];
  /** The session was given a seat. */
  admitted: [admission: Admission];
  /** The server replaced the admission token before it expired. */
  token: [refresh: TokenRefresh];
  /** The server is about to close the session; the `close` event that follows says whether it reconnects. */
  evicted: [eviction: Eviction];
  /** The server refused a message (`error` message). Transport failures surface as `close` with 1006 instead. */
  error: [error: ServerError];
  /** A connection ended. */
  close: [close: ConnectionClose];
}

/** Options of a {@link WaitingRoomClient}. */
export interface WaitingRoomClientOptions {
  /** Room URL: `ws://host:port/` for the default room, `ws://host:port/rooms/<room>` for a named one. */
  url: string;
  /** WebSocket constructor. Default `globalThis.WebSocket`; in Node use `createNodeClient` or pass `ws`. */
  WebSocket?: WebSocketConstructor;
  /**
   * Where the queue resume token is kept between connections. Default: in memory, which survives reconnects
   * but not a page reload; pass `createSessionResumeStore(url)` to survive reloads too.
   */
  resumeStore?: ResumeStore;
  /** Reconnect backoff: full jitter, base 1000 ms, cap 30000 ms unless set here. */
  backoff?: BackoffOptions;
  /** Reconnect after a drop the server did not decide (see {@link closeAllowsReconnect}). Default true. */
  reconnect?: boolean;
  /** Ping interval while active, in ms, overriding the `heartbeat.intervalMs` the server announces. */
  pingIntervalMs?: number;
}
