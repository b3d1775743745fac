import type { RoomConfig } from '../config/server-config.js';
import { logFormatVersion, type EventRecord } from './event-record.js';

/** The file is not an event log this release can read; the message names the file and line, in one line. */
export class EventLogFormatError extends Error {}

/**
 * Reads records of every format this release knows into the current one, in log order (it remembers each
 * room's settings to fill in what older formats left out).
 *
 * - Format 1 (records without `v`): decisions did not carry their due times. A `held` place expired
 *   `resumeWindowMs` after it was held, and a seat `sessionTtlMs` after its admission, both from the room's
 *   settings as opened; those times are written into the decisions.
 * - Format 2: as format 3 without its additions (a signed-in user on `connected`, joins and takeovers; live
 *   rooms' chat records), so it reads as it is.
 * - Format 3: current. A release that reads only formats 1 and 2 refuses it in one line instead of misreading a
 *   takeover or a chat record.
 */
export class RecordUpgrade {
  private readonly settings = new Map<string, RoomConfig>();

  /** The record in the current format; `where` names it in an error. Throws `EventLogFormatError` for a newer format. */
  apply(raw: EventRecord, where: string): EventRecord {
    const version: unknown = raw.v === undefined ? 1 : raw.v;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new EventLogFormatError(`${where}: format version ${String(raw.v)} is not one anteroom writes`);
    if (version > logFormatVersion) {
      throw new EventLogFormatError(`${where}: written in log format ${version} by a newer release; this one reads formats 1 to ${logFormatVersion}`);
    }
    const record = version === 1 ? this.fromFormat1(raw) : version < logFormatVersion ? { ...raw, v: logFormatVersion } : raw;
    if (record.kind === 'room.opened') this.settings.set(record.room, record.data.settings);
    return record;
  }

  private fromFormat1(raw: EventRecord): EventRecord {
    const settings = this.settings.get(raw.room);
    if (raw.kind === 'held') return { ...raw, v: logFormatVersion, data: { ...raw.data, expiresAt: raw.at + (settings?.resumeWindowMs ?? 30_000) } };
    if (raw.kind === 'admitted') {
      const ttl = settings?.sessionTtlMs ?? 0;
      return { ...raw, v: logFormatVersion, data: { ...raw.data, at: raw.at, ttlUntil: ttl > 0 ? raw.at + ttl : null } };
    }
    return { ...raw, v: logFormatVersion };
  }
}
