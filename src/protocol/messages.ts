import type { RoomStatus } from '../../machines/admission/admission-types.js';
import type { ErrorCode, EvictionReason } from './codes.js';

/** Messages the server sends (protocol v1, with the v2 additions). */
export interface QueuedStatus {
  type: 'status';
  status: 'queued';
  /** 1 = next; null in the pre-queue (v2), until the draw at `opensAt`. */
  position: number | null;
  queueLength: number;
  session: string;
  resumeToken: string;
  etaMs: number | null;
  /** v2: the room's status, so a waiter sees at once that the line is paused or under maintenance. */
  roomStatus?: RoomStatus;
  /** v2: the operator's notice, or null. */
  notice?: string | null;
  /** Present above 0: the place's priority from a join ticket. */
  priority?: number;
  /** v2: present (true) while the place waits in the pre-queue for the draw. */
  preQueue?: true;
  /** v2: when the room opens (ms epoch), while the place is in the pre-queue. */
  opensAt?: number;
}

/** v2: the room's status or notice changed; sent to every connection in the room. */
export interface RoomMessage {
  type: 'room';
  status: RoomStatus;
  notice: string | null;
}

export interface ActiveStatus {
  type: 'status';
  status: 'active';
  session: string;
  /** v2: the session's resume token; after a restart, `resume` with it gives the held seat back. */
  resumeToken?: string;
  token: string;
  expiresAt: number;
  heartbeat: { intervalMs: number; timeoutMs: number };
}

export interface TokenMessage {
  type: 'token';
  token: string;
  expiresAt: number;
}

export interface PongMessage {
  type: 'pong';
  t: number;
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
  /** v2: the `id` of the message this error answers, when it carried one. */
  ref?: string;
}

/** v2: a live room's message (protocol v2 section 6); the sender's own copy acknowledges its `say`. */
export interface ChatMessageOut {
  type: 'message';
  /** Per room, strictly increasing. */
  seq: number;
  /** The sender's own message id. */
  id: string;
  from: { user: string; name: string };
  text: string;
  /** When the room accepted it, server ms epoch. */
  at: number;
}

/** v2: another member started or stopped typing. */
export interface TypingMessage {
  type: 'typing';
  from: { user: string; name: string };
  state: boolean;
}

/** v2: who is in a live room: everyone (`members`, on admission), or one member who `joined` or `left`. */
export type PresenceMessage =
  | { type: 'presence'; members: { user: string; name: string }[] }
  | { type: 'presence'; joined: { user: string; name: string } }
  | { type: 'presence'; left: { user: string; name: string } };

/** v2: a page of a live room's history, oldest first; `more`: older messages exist. */
export interface HistoryMessage {
  type: 'history';
  messages: Omit<ChatMessageOut, 'type'>[];
  more: boolean;
}

/** v2: the answer to `hello` (protocol v2 section 7). */
export interface HelloMessage {
  type: 'hello';
  v: 2;
  /** `anteroom/<version>`. */
  server: string;
  features: string[];
}

export interface EvictedMessage {
  type: 'evicted';
  reason: EvictionReason;
}

export type ServerMessage =
  | RoomMessage
  | QueuedStatus
  | ActiveStatus
  | TokenMessage
  | PongMessage
  | ErrorMessage
  | EvictedMessage
  | ChatMessageOut
  | TypingMessage
  | PresenceMessage
  | HistoryMessage
  | HelloMessage;

/** A request for a page of history: the `limit` newest before `before`, or everything after `after`. */
export type HistoryRequest = { type: 'history'; before: number; limit: number } | { type: 'history'; after: number };

/** Messages a client sends (protocol v1, and the v2 handshake and live-room messages). */
export type ClientMessage =
  | { type: 'ping' }
  | { type: 'resume'; token: string }
  | { type: 'leave' }
  | { type: 'hello'; v: number }
  | { type: 'say'; id: string; text: string }
  | { type: 'typing'; state: boolean }
  | HistoryRequest;
