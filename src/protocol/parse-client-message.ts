import type { ErrorCode } from './codes.js';
import type { ClientMessage } from './messages.js';

export type ParsedClientMessage =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ErrorCode; message: string };

/** Longest resume token accepted; real ones are far shorter. */
export const maxResumeTokenChars = 512;

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/**
 * Parses one text frame into a client message. Never throws: anything that is not a well-formed protocol v1
 * message comes back as the error code to answer with. Only own properties are read, so keys such as
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
    default:
      return { ok: false, code: 'unknown_type', message: `unknown message type "${type.slice(0, 64)}"` };
  }
}
