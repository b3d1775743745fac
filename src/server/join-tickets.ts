import { readFileSync, statSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

/** Highest priority a join ticket may carry: a room serves at most 64 priorities (0 to 63). */
export const maxTicketPriority = 63;

/** Longest join ticket read from an upgrade URL, in characters. */
const maxTicketChars = 4096;

/** What a verified join ticket grants: its place's priority (0 to 63) and who it names (`sub`, if any). */
export interface JoinTicket {
  priority: number;
  subject: string | null;
}

/** Verifies a join ticket for one room: the grant, or null for a ticket that is bad, expired or not for it. */
export type TicketVerifier = (token: string) => Promise<JoinTicket | null>;

/** A room's ticket settings: an HS256 secret, or a JWKS given as an http(s) URL or a file path. */
export interface TicketSettings {
  name: string;
  ticketSecret?: string;
  ticketJwks?: string;
}

/**
 * The verifier for a room's join tickets (`?ticket=<JWT>` at the upgrade), or null when the room accepts
 * none. Claims: `room` must be the room's name, `exp` is required, `priority` an integer from 0 to 63
 * (default 0), `sub` optional. Throws when `ticketJwks` names a file that cannot be read as a JWKS.
 */
export function createTicketVerifier(room: TicketSettings): TicketVerifier | null {
  const key = ticketKey(room);
  if (key === null) return null;
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, { requiredClaims: ['exp', 'room'] });
      if (payload.room !== room.name) return null;
      const priority = payload.priority ?? 0;
      if (!Number.isSafeInteger(priority) || (priority as number) < 0 || (priority as number) > maxTicketPriority) return null;
      return { priority: priority as number, subject: typeof payload.sub === 'string' ? payload.sub : null };
    } catch {
      return null;
    }
  };
}

/**
 * `createTicketVerifier` for a room whose settings did not come from the configuration (an admin `PUT`, a data
 * dir): the verifier, or why its `ticketJwks` cannot be used, instead of a throw.
 */
export function checkedTicketVerifier(room: TicketSettings): { tickets: TicketVerifier | null } | { problem: string } {
  try {
    return { tickets: createTicketVerifier(room) };
  } catch (error) {
    return { problem: `ticketJwks: ${(error as Error).message}` };
  }
}

function ticketKey(room: TicketSettings): JWTVerifyGetKey | Uint8Array | null {
  if (room.ticketSecret !== undefined) return new TextEncoder().encode(room.ticketSecret);
  if (room.ticketJwks === undefined) return null;
  return jwksKeySet(room.ticketJwks);
}

/**
 * The keys of a JWKS given as an http(s) URL (fetched and cached by `jose`) or a file path (read now). Throws
 * when the file cannot be read as a JWKS; the message names the path, never the file's text.
 */
export function jwksKeySet(source: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(source)) return createRemoteJWKSet(new URL(source));
  return createLocalJWKSet(readJwksFile(source));
}

/** Largest JWKS file read, bytes: a key set is a few KiB. */
const maxJwksBytes = 1024 * 1024;

/**
 * A JWKS file's key set. Only a regular file is read (a pipe or device would block the event loop), and
 * errors name the path, never the file's text (a PUT must not echo another file's contents).
 */
function readJwksFile(path: string): { keys: Record<string, unknown>[] } {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new Error(`${path} cannot be read`);
  }
  if (!stats.isFile() || stats.size > maxJwksBytes) throw new Error(`${path} is not a JWKS file`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { keys: Record<string, unknown>[] };
  } catch {
    throw new Error(`${path} is not a JWKS file`);
  }
}

/**
 * The join ticket in an upgrade URL (`?ticket=<JWT>`): null when there is none, the empty string for one that
 * is empty or too long to be a ticket (refused like any bad ticket).
 */
export function ticketFromUrl(url: string | undefined): string | null {
  const query = url?.split('?', 2)[1];
  if (query === undefined) return null;
  const token = new URLSearchParams(query).get('ticket');
  if (token === null) return null;
  return token.length > maxTicketChars ? '' : token;
}

/**
 * The priority an upgrade gets: 0 without a ticket; a verified ticket's priority; null (refuse with 401) for
 * a ticket that does not verify, or any ticket to a room that accepts none.
 */
export async function priorityForUpgrade(verifier: TicketVerifier | null, url: string | undefined): Promise<number | null> {
  const token = ticketFromUrl(url);
  if (token === null) return 0;
  if (verifier === null || token === '') return null;
  return (await verifier(token))?.priority ?? null;
}
