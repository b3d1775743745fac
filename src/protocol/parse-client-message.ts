import { maxHistoryPage, maxSayIdLength, maxSayTextLength } from '../../machines/chat/chat-types.js';
import type { ErrorCode } from './codes.js';
import type { ClientMessage } from './messages.js';

/**
 * A message, or a refusal (the code and words to answer with); either way `ref` is the message's own `id` when it
 * carried one, for any error that answers it (protocol v2 section 7).
 */
export type ParsedClientMessage =
  | { ok: true; message: ClientMessage; ref?: string }
  | { ok: false; code: ErrorCode; message: string; ref?: string };

type Refusal = Extract<ParsedClientMessage, { ok: false }>;

/** Longest resume token accepted; real ones are far shorter. */
export const maxResumeTokenChars = 512;

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/**
 * Parses one text frame into a client message. Never throws: anything that is not a well-formed protocol v1
 * or v2 message comes back as the error code to answer with; the message's `id`, if it had one, comes back as `ref`. Only own properties are read, so keys such as
 * `__proto__` or `constructor` cannot smuggle a type in.
 */
export function parseClientMessage(text: string): ParsedClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_json', message: 'message is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'not_an_object', message: 'message must be a JSON object' };
  }
  const fields = value as Record<string, unknown>;
  const parsed = parseFields(fields);
  // Protocol v2 section 7: an error answering a message that carried an id repeats it.
  const ref = messageId(fields);
  return ref === null ? parsed : { ...parsed, ref };
}

/** The message's `id` when it is one a `say` may carry (1..64 characters), else null. */
function messageId(fields: Record<string, unknown>): string | null {
  const id = hasOwn(fields, 'id') ? fields.id : undefined;
  return typeof id === 'string' && id.length >= 1 && id.length <= maxSayIdLength && !loneSurrogate.test(id) ? id : null;
}

function parseFields(fields: Record<string, unknown>): ParsedClientMessage {
  const type = hasOwn(fields, 'type') ? fields.type : undefined;
  if (typeof type !== 'string' || type === '') {
    return { ok: false, code: 'invalid_message', message: 'message needs a string "type"' };
  }
  switch (type) {
    case 'ping':
      return { ok: true, message: { type: 'ping' } };
    case 'leave':
      return { ok: true, message: { type: 'leave' } };
    case 'resume': {
      const token = hasOwn(fields, 'token') ? fields.token : undefined;
      if (typeof token !== 'string' || token === '' || token.length > maxResumeTokenChars) {
        return { ok: false, code: 'invalid_message', message: '"resume" needs a non-empty string "token"' };
      }
      return { ok: true, message: { type: 'resume', token } };
    }
    case 'hello': {
      const v = hasOwn(fields, 'v') ? fields.v : undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) return invalid('"hello" needs a number "v"');
      return { ok: true, message: { type: 'hello', v } };
    }
    case 'say':
      return parseSay(fields);
    case 'typing': {
      const state = hasOwn(fields, 'state') ? fields.state : undefined;
      if (typeof state !== 'boolean') return invalid('"typing" needs "state" true or false');
      return { ok: true, message: { type: 'typing', state } };
    }
    case 'history':
      return parseHistory(fields);
    default:
      return { ok: false, code: 'unknown_type', message: `unknown message type "${type.slice(0, 64)}"` };
  }
}

function invalid(message: string): Refusal {
  return { ok: false, code: 'invalid_message', message };
}

/**
 * A lone surrogate (JSON's `\ud800` escape with no partner): it has no UTF-8 form, so the history would keep
 * U+FFFD in its place and a retry's id would no longer match. With the `u` flag a well-formed pair is one code
 * point outside this range.
 */
const loneSurrogate = /[\uD800-\uDFFF]/u;

/** `say`: an `id` of 1..64 and a `text` of 1..2000 UTF-16 units, both well-formed UTF-16 (protocol v2 section 6). */
function parseSay(fields: Record<string, unknown>): ParsedClientMessage {
  const id = hasOwn(fields, 'id') ? fields.id : undefined;
  const text = hasOwn(fields, 'text') ? fields.text : undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > maxSayIdLength || loneSurrogate.test(id)) return invalid(`"say" needs an "id" of 1 to ${maxSayIdLength} characters`);
  if (typeof text !== 'string' || text.length === 0 || text.length > maxSayTextLength) return invalid(`"say" needs a "text" of 1 to ${maxSayTextLength} characters`);
  if (loneSurrogate.test(text)) return invalid('"say" text must be well-formed UTF-16 (no lone surrogates)');
  return { ok: true, message: { type: 'say', id, text } };
}

const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** `history`: `before` (a seq) with `limit` 1..200, or `after` (a seq); exactly one of the two. */
function parseHistory(fields: Record<string, unknown>): ParsedClientMessage {
  const before = hasOwn(fields, 'before') ? fields.before : undefined;
  const after = hasOwn(fields, 'after') ? fields.after : undefined;
  const limit = hasOwn(fields, 'limit') ? fields.limit : undefined;
  if (after !== undefined && before === undefined && limit === undefined) {
    return isSeq(after) ? { ok: true, message: { type: 'history', after } } : invalid('"after" must be a whole number >= 0');
  }
  if (before !== undefined && after === undefined) {
    if (!isSeq(before)) return invalid('"before" must be a whole number >= 0');
    if (!(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= maxHistoryPage)) return invalid(`"limit" must be a whole number from 1 to ${maxHistoryPage}`);
    return { ok: true, message: { type: 'history', before, limit } };
  }
  return invalid('"history" needs "before" and "limit", or "after"');
}
