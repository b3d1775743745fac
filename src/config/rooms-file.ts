/**
 * The `--config <file>` rooms file: `{ "rooms": [ { "name": "main", "capacity": 5, ... } ] }`.
 * Every room field except `name` is optional and falls back to the flag, environment or default value.
 * This file also owns the rules a room's settings obey, so flags and the file accept exactly the same values.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import type { RoomConfig, RoomSettings } from './server-config.js';

export const roomNamePattern = /^[a-z0-9_-]{1,64}$/;

/** Node fires a timer longer than this at once (with a warning), so no delay may exceed it. */
export const maxTimerMs = 2_147_483_647;

export interface WholeNumberRange {
  min: number;
  max: number;
}

export const roomSettingRanges: Readonly<Record<keyof RoomSettings, WholeNumberRange>> = {
  capacity: { min: 0, max: Number.MAX_SAFE_INTEGER },
  maxQueue: { min: 0, max: Number.MAX_SAFE_INTEGER },
  heartbeatTimeoutMs: { min: 1, max: maxTimerMs },
  heartbeatIntervalMs: { min: 1, max: maxTimerMs },
  queuePingMs: { min: 1, max: maxTimerMs },
  resumeWindowMs: { min: 0, max: maxTimerMs },
  sessionTtlMs: { min: 0, max: maxTimerMs },
  // JWT times are whole seconds: a shorter lifetime would give exp == iat.
  tokenTtlMs: { min: 1000, max: maxTimerMs },
  seatGraceMs: { min: 0, max: maxTimerMs },
};

const roomSettingNames = Object.keys(roomSettingRanges) as (keyof RoomSettings)[];

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

/** "a whole number >= 0" or "a whole number from 1 to 2147483647", for error messages and help. */
export function describeRange(range: WholeNumberRange): string {
  return range.max === Number.MAX_SAFE_INTEGER
    ? `a whole number >= ${range.min}`
    : `a whole number from ${range.min} to ${range.max}`;
}

export function isInRange(value: unknown, range: WholeNumberRange): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= range.min && value <= range.max;
}

/** A value quoted for a one-line message, cut short so a huge value cannot flood the terminal. */
export function quoteValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
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

function parseRoom(entry: unknown, defaults: RoomSettings, label: string, origin: RoomDefaultsOrigin): RoomConfig {
  if (!isPlainObject(entry)) throw new ConfigError(`${label} must be an object, got ${quoteValue(entry)}`);
  const { name } = entry;
  if (typeof name !== 'string' || !roomNamePattern.test(name)) {
    throw new ConfigError(`${label}.name must be 1 to 64 of a-z 0-9 _ -, got ${quoteValue(name)}`);
  }
  for (const key of Object.keys(entry)) {
    if (key !== 'name' && !(roomSettingNames as string[]).includes(key)) {
      throw new ConfigError(`${label} (room ${quoteValue(name)}) has an unknown field ${quoteValue(key)}`);
    }
  }

  const room: RoomConfig = { name, ...defaults };
  for (const field of roomSettingNames) {
    const value = entry[field];
    if (value === undefined) continue;
    const range = roomSettingRanges[field];
    if (!isInRange(value, range)) {
      throw new ConfigError(`${label}.${field} must be ${describeRange(range)}, got ${quoteValue(value)}`);
    }
    room[field] = value;
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
