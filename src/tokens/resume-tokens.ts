/**
 * Resume tokens: `<session>.<base64url HMAC-SHA256>`, bound to one room. Whoever holds a queued session's token
 * may reclaim its place, so the MAC stops a client from naming someone else's session or another room's.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

export interface ResumeTokens {
  mint(room: string, session: string): string;
  /** The session id when the token was minted for this room by this secret; null for anything else. */
  read(room: string, token: string): string | null;
}

export const minResumeSecretBytes = 16;

/** Longer than any token this server mints (session ids are short); longer input is refused before hashing. */
export const maxResumeTokenLength = 256;

/** SHA-256 output, 32 bytes, as unpadded base64url. */
const macPattern = /^[A-Za-z0-9_-]{43}$/;

/** Visible ASCII only: the MAC covers the UTF-8 bytes, and two different ill-formed strings can share them. */
const sessionPattern = /^[\x21-\x7e]+$/;

export function createResumeTokens(secret?: Uint8Array): ResumeTokens {
  if (secret !== undefined && secret.byteLength < minResumeSecretBytes) {
    throw new RangeError(`resume token secret must be at least ${minResumeSecretBytes} bytes, got ${secret.byteLength}`);
  }
  // createSecretKey copies the bytes, so later changes to the caller's array cannot change the key.
  const key = createSecretKey(secret === undefined ? randomBytes(32) : Buffer.from(secret));

  return {
    mint(room, session) {
      if (typeof session !== 'string' || !sessionPattern.test(session)) {
        throw new TypeError('session must be a non-empty string of visible ASCII characters');
      }
      if (typeof room !== 'string') throw new TypeError('room must be a string');
      const token = `${session}.${macOf(key, room, session)}`;
      if (token.length > maxResumeTokenLength) throw new RangeError(`session id too long for a resume token: ${session.length} chars`);
      return token;
    },

    read(room, token) {
      if (typeof room !== 'string' || typeof token !== 'string' || token.length > maxResumeTokenLength) return null;
      const dot = token.lastIndexOf('.');
      if (dot <= 0) return null;
      const mac = token.slice(dot + 1);
      if (!macPattern.test(mac)) return null;
      const session = token.slice(0, dot);
      if (!sessionPattern.test(session)) return null;
      // Comparing the text, not decoded bytes, rejects the alternative spellings lenient base64 decoding allows.
      const expected = Buffer.from(macOf(key, room, session), 'latin1');
      return timingSafeEqual(Buffer.from(mac, 'latin1'), expected) ? session : null;
    },
  };
}

function macOf(key: KeyObject, room: string, session: string): string {
  // The room's length prefix keeps ("ab", "c") and ("a", "bc") apart.
  return createHmac('sha256', key)
    .update(`anteroom-resume-v1\n${room.length}:${room}\n${session}`)
    .digest('base64url');
}
