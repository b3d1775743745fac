import type { ErrorCode, EvictionReason } from './codes.js';

/** Messages the server sends (protocol v1). */
export interface QueuedStatus {
  type: 'status';
  status: 'queued';
  position: number;
  queueLength: number;
  session: string;
  resumeToken: string;
  etaMs: number | null;
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

export type ServerMessage = QueuedStatus | ActiveStatus | TokenMessage | PongMessage | ErrorMessage | EvictedMessage;

/** Messages a client sends (protocol v1). */
export type ClientMessage = { type: 'ping' } | { type: 'resume'; token: string } | { type: 'leave' };
