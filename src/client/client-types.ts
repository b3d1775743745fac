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
  /** v2: the `id` of the message this error answers (a `say`'s id), when that message carried one. */
  ref?: string;
}

/** A member of a live room, as `presence` and `message.from` name them (protocol v2 section 6). */
export interface ChatMember {
  /** The identity (`sub` of the JWT), or the session without authentication. */
  user: string;
  /** What to show: the `name` claim, else `sub`; `Guest <4 characters>` without authentication. */
  name: string;
}

/** A message of a live room, as the server sends it (live, or in a `history` page). */
export interface ChatMessage {
  /** Per room, strictly increasing: the order every member sees. */
  seq: number;
  /** The sender's own message id (what `say()` returned to the sender). */
  id: string;
  from: ChatMember;
  /** As typed: render it as text, never as HTML. */
  text: string;
  /** When the server accepted it, in ms since the epoch. */
  at: number;
}

/**
 * Payload of the `presence` event. On admission to a live room `members` lists everyone admitted and
 * neither `joined` nor `left` is set; afterwards one of them names the member who came or went, and
 * `members` is the list with that change applied.
 */
export interface PresenceChange {
  members: ChatMember[];
  joined?: ChatMember;
  left?: ChatMember;
}

/** Payload of the `typing` event: another member started or stopped typing. */
export interface TypingChange {
  from: ChatMember;
  state: boolean;
}

/**
 * Payload of the `history` event: messages this client had not seen yet (oldest first), from the page sent
 * on admission, an older page asked for with `loadOlder()`, or the gap filled after a reconnect.
 */
export interface HistoryPage {
  messages: ChatMessage[];
  /** Older messages exist before the oldest of the page the server sent. */
  more: boolean;
}

/** A `say` not yet acknowledged by the room: kept and sent again, with the same id, after a reconnect. */
export interface PendingSay {
  id: string;
  text: string;
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
  /** Live rooms: a message new to this client, in the room's order (the sender's own copy is its acknowledgement). */
  message: [message: ChatMessage];
  /** Live rooms: the member list on admission, then each member who joins or leaves. */
  presence: [change: PresenceChange];
  /** Live rooms: another member started or stopped typing. */
  typing: [change: TypingChange];
  /** Live rooms: a page of history (on admission, after a reconnect, or asked for with `loadOlder()`). */
  history: [page: HistoryPage];
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
