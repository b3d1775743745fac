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
}

export interface EvictedMessage {
  type: 'evicted';
  reason: EvictionReason;
}

export type ServerMessage = RoomMessage | QueuedStatus | ActiveStatus | TokenMessage | PongMessage | ErrorMessage | EvictedMessage;

/** Messages a client sends (protocol v1). */
export type ClientMessage = { type: 'ping' } | { type: 'resume'; token: string } | { type: 'leave' };
