import type { ActiveStatus, QueuedStatus } from '../protocol/messages.js';

/** Recognising server messages: a newer server may send more fields or types, and those are let through. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isQueuedStatus(m: Record<string, unknown>): m is Record<string, unknown> & QueuedStatus {
  return (
    m.status === 'queued' &&
    (typeof m.position === 'number' || (m.position === null && m.preQueue === true)) &&
    typeof m.queueLength === 'number' &&
    typeof m.session === 'string' &&
    typeof m.resumeToken === 'string' &&
    (typeof m.etaMs === 'number' || m.etaMs === null)
  );
}

export function isActiveStatus(m: Record<string, unknown>): m is Record<string, unknown> & ActiveStatus {
  return (
    m.status === 'active' &&
    typeof m.session === 'string' &&
    typeof m.token === 'string' &&
    typeof m.expiresAt === 'number' &&
    isRecord(m.heartbeat)
  );
}
