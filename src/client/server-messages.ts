import type { ActiveStatus, QueuedStatus } from '../protocol/messages.js';
import type { ChatMember, ChatMessage } from './client-types.js';

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

export function isChatMember(value: unknown): value is ChatMember {
  return isRecord(value) && typeof value.user === 'string' && typeof value.name === 'string';
}

export function isChatMessage(value: unknown): value is ChatMessage {
  return (
    isRecord(value) &&
    typeof value.seq === 'number' &&
    Number.isFinite(value.seq) &&
    typeof value.id === 'string' &&
    isChatMember(value.from) &&
    typeof value.text === 'string' &&
    typeof value.at === 'number'
  );
}

/** The member fields only: a newer server's extra fields are not passed on to listeners. */
export function chatMember(member: ChatMember): ChatMember {
  return { user: member.user, name: member.name };
}

export function chatMessage(message: ChatMessage): ChatMessage {
  return { seq: message.seq, id: message.id, from: chatMember(message.from), text: message.text, at: message.at };
}
