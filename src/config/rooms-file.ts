/**
 * The `--config <file>` rooms file: `{ "rooms": [ { "name": "main", "capacity": 5, ... } ] }`.
 * Every room field except `name` is optional and falls back to the flag, environment or default value.
 * A room's settings obey the rules in room-settings.ts, so flags, the file and the admin API accept the same values.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { quoteValue, roomSettingNames, roomSettingProblem } from './room-settings.js';
import type { RoomConfig, RoomSettings } from './server-config.js';

/** Room fields only the rooms file sets: text, per room, with no flag. */
export const roomTextFields = ['ticketSecret', 'ticketJwks', 'opensAt', 'siteSessions', 'chat'] as const;

export const roomNamePattern = /^[a-z0-9_-]{1,64}$/;

export { describeRange, isInRange, maxTimerMs, quoteValue, roomSettingRanges, type WholeNumberRange } from './room-settings.js';

/**
 * The heartbeat interval a room gets when nobody chose one: two thirds of its timeout, so a client that
 * pings on time always beats the timeout, whatever timeout was chosen (3000 gives the documented 2000).
 */
export function heartbeatIntervalFor(timeoutMs: number): number {
  return Math.max(1, Math.floor((timeoutMs * 2) / 3));
}

/** What the rooms file needs to know about the values it fills in. */
export interface RoomDefaultsOrigin {
  /** The interval in the defaults was not chosen by the user, so a room's own timeout decides it. */
  intervalFollowsTimeout?: boolean;
}

/**
 * Reads and validates the rooms file. `sourceName` is the flag or environment variable that named it, so
 * every message says where the path came from.
 */
export function loadRoomsFile(
  path: string,
  defaults: RoomSettings,
  sourceName = '--config',
  origin: RoomDefaultsOrigin = {},
): RoomConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${sourceName} ${path}: cannot read the rooms file (${reason})`, { cause: error });
  }
  return parseRoomsFile(text, defaults, `${sourceName} ${path}`, origin);
}

/** Validates the rooms file's text; `label` prefixes every message (e.g. `--config rooms.json`). */
export function parseRoomsFile(text: string, defaults: RoomSettings, label: string, origin: RoomDefaultsOrigin = {}): RoomConfig[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${label}: not valid JSON (${reason})`, { cause: error });
  }
  if (!isPlainObject(document) || !Array.isArray(document.rooms)) {
    throw new ConfigError(`${label}: must be a JSON object with a "rooms" array`);
  }
  for (const key of Object.keys(document)) {
    if (key !== 'rooms') throw new ConfigError(`${label}: unknown top-level field ${quoteValue(key)}`);
  }
  if (document.rooms.length === 0) throw new ConfigError(`${label}: "rooms" must list at least one room`);

  const seen = new Set<string>();
  return document.rooms.map((entry: unknown, index: number) => {
    const room = parseRoom(entry, defaults, `${label}: rooms[${index}]`, origin);
    if (seen.has(room.name)) throw new ConfigError(`${label}: rooms[${index}] repeats the room name ${quoteValue(room.name)}`);
    seen.add(room.name);
    return room;
  });
}

/**
 * Validates one room entry exactly as the rooms file does (`PUT /api/rooms/<room>` uses it too): unknown
 * fields, ranges, ticket keys, `opensAt`, heartbeat order. Throws ConfigError with `label` in its message.
 */
export function parseRoomEntry(entry: unknown, defaults: RoomSettings, label: string): RoomConfig {
  return parseRoom(entry, defaults, label, { intervalFollowsTimeout: true });
}

function parseRoom(entry: unknown, defaults: RoomSettings, label: string, origin: RoomDefaultsOrigin): RoomConfig {
  if (!isPlainObject(entry)) throw new ConfigError(`${label} must be an object, got ${quoteValue(entry)}`);
  const { name } = entry;
  if (typeof name !== 'string' || !roomNamePattern.test(name)) {
    throw new ConfigError(`${label}.name must be 1 to 64 of a-z 0-9 _ -, got ${quoteValue(name)}`);
  }
  for (const key of Object.keys(entry)) {
    if (key !== 'name' && !(roomSettingNames as string[]).includes(key) && !(roomTextFields as readonly string[]).includes(key)) {
      throw new ConfigError(`${label} (room ${quoteValue(name)}) has an unknown field ${quoteValue(key)}`);
    }
  }

  const room: RoomConfig = { name, ...defaults };
  for (const field of roomSettingNames) {
    const value = entry[field];
    if (value === undefined) continue;
    const problem = roomSettingProblem(field, value);
    if (problem !== null) throw new ConfigError(`${label}.${problem}`);
    room[field] = value as number;
  }
  Object.assign(room, ticketFields(entry, `${label} (room ${quoteValue(name)})`));
  if (entry.opensAt !== undefined) room.opensAt = parseOpensAt(entry.opensAt, `${label}.opensAt`);
  if (entry.siteSessions !== undefined) {
    if (typeof entry.siteSessions !== 'boolean') throw new ConfigError(`${label}.siteSessions must be true or false, got ${quoteValue(entry.siteSessions)}`);
    room.siteSessions = entry.siteSessions;
  }
  if (entry.chat !== undefined) {
    if (typeof entry.chat !== 'boolean') throw new ConfigError(`${label}.chat must be true or false, got ${quoteValue(entry.chat)}`);
    room.chat = entry.chat;
  }
  if (origin.intervalFollowsTimeout && entry.heartbeatIntervalMs === undefined && entry.heartbeatTimeoutMs !== undefined) {
    room.heartbeatIntervalMs = heartbeatIntervalFor(room.heartbeatTimeoutMs);
  }

  if (room.heartbeatIntervalMs >= room.heartbeatTimeoutMs) {
    const origin = (field: keyof RoomSettings) => (entry[field] === undefined ? ', from flags/defaults' : '');
    throw new ConfigError(
      `${label} (room ${quoteValue(name)}): heartbeatIntervalMs (${room.heartbeatIntervalMs}${origin('heartbeatIntervalMs')}) ` +
        `must be less than heartbeatTimeoutMs (${room.heartbeatTimeoutMs}${origin('heartbeatTimeoutMs')})`,
    );
  }
  return room;
}

/**
 * `opensAt` as ms epoch: a whole number of ms, or an ISO 8601 date-time with a time zone (`Z` or an offset).
 * Throws ConfigError otherwise.
 */
export function parseOpensAt(value: unknown, label: string): number {
  if (Number.isSafeInteger(value) && (value as number) >= 0) return value as number;
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  if (typeof value === 'string' && iso.test(value) && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  throw new ConfigError(`${label} must be an ISO 8601 date-time with a time zone (e.g. "2026-12-01T19:00:00Z") or ms since the epoch, got ${quoteValue(value)}`);
}

/** A room's join-ticket key: `ticketSecret` (at least 32 characters) or `ticketJwks`, not both. */
function ticketFields(entry: Record<string, unknown>, label: string): Pick<RoomConfig, 'ticketSecret' | 'ticketJwks'> {
  const { ticketSecret, ticketJwks } = entry;
  if (ticketSecret !== undefined && ticketJwks !== undefined) throw new ConfigError(`${label}: give ticketSecret or ticketJwks, not both`);
  if (ticketSecret !== undefined) {
    if (typeof ticketSecret !== 'string' || ticketSecret.length < 32) throw new ConfigError(`${label}.ticketSecret must be a string of at least 32 characters`);
    return { ticketSecret };
  }
  if (ticketJwks !== undefined) {
    if (typeof ticketJwks !== 'string' || ticketJwks === '') throw new ConfigError(`${label}.ticketJwks must be an http(s) URL or a file path`);
    return { ticketJwks };
  }
  return {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
