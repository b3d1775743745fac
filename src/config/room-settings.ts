/**
 * The rules a room's settings obey, in one place, whichever way a setting arrives: a flag, an environment
 * variable, the rooms file or the admin API. Each accepts exactly the values these rules accept.
 */
import type { RoomSettings } from './server-config.js';

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
  admissionRate: { min: 0, max: 1_000_000 },
  maxPlacesPerIp: { min: 0, max: Number.MAX_SAFE_INTEGER },
  siteSessionTimeoutMs: { min: 1000, max: maxTimerMs },
  seatGraceMs: { min: 0, max: maxTimerMs },
  historyLimit: { min: 1, max: 1_000_000 },
};

export const roomSettingNames = Object.keys(roomSettingRanges) as (keyof RoomSettings)[];

/** "a whole number >= 0" or "a whole number from 1 to 2147483647", for error messages and help. */
export function describeRange(range: WholeNumberRange): string {
  return range.max === Number.MAX_SAFE_INTEGER
    ? `a whole number >= ${range.min}`
    : `a whole number from ${range.min} to ${range.max}`;
}

/**
 * A whole number within `range` that a double holds exactly: 1e308 is an integer to JavaScript, and
 * 9007199254740993 arrives as ...992, so neither is taken.
 */
export function isInRange(value: unknown, range: WholeNumberRange): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= range.min && value <= range.max;
}

/** A value quoted for a one-line message, cut short so a huge value cannot flood the terminal. */
export function quoteValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks one room setting: null when `value` is acceptable for `field`, else why not, as
 * `<field> must be <range>, got <value>` (the caller puts where it came from in front).
 */
export function roomSettingProblem(field: keyof RoomSettings, value: unknown): string | null {
  const range = roomSettingRanges[field];
  return isInRange(value, range) ? null : `${field} must be ${describeRange(range)}, got ${quoteValue(value)}`;
}
