import { isDeepStrictEqual } from 'node:util';
import { RoomRuntime, silentConnectionEffects } from '../rooms/room-runtime.js';
import type { RoomConfig } from '../config/server-config.js';
import { ReplayClock } from './actor-clocks.js';
import { EventLog } from './event-log.js';
import { isInputRecord, type EventRecord, type InputRecord } from './event-record.js';

/** What a replayed decision looks like for comparison: everything but `seq` and `at`. */
export interface DecisionView {
  room: string;
  kind: string;
  conn: string | null;
  data: Record<string, unknown>;
}

export type ReplayResult =
  | { ok: true; inputs: number; decisions: number }
  | {
      ok: false;
      inputs: number;
      decisions: number;
      /** The recorded record at which replay and record parted (null when the record ended first). */
      record: EventRecord | null;
      expected: DecisionView | null;
      actual: DecisionView | null;
      message: string;
    };

export interface ReplayOptions {
  /** Called after each input is fed, with the rooms as they stand: for `--until` and timelines. */
  onInput?: (record: EventRecord, rooms: ReadonlyMap<string, RoomRuntime>) => void | 'stop';
  /** Overrides applied to every room's recorded settings (what-if replays). */
  settingsOverride?: Partial<RoomConfig>;
  /** Compare decisions with the record (default); off for what-if replays, which are expected to differ. */
  compare?: boolean;
}

/**
 * Feeds the recorded inputs into fresh actors, firing each timer when the record says it fired, and
 * compares every decision they make with the recorded one, in order. Stops at the first divergence.
 */
export function replay(records: Iterable<EventRecord>, options: ReplayOptions = {}): ReplayResult {
  const compare = options.compare ?? true;
  const rooms = new Map<string, RoomRuntime>();
  const clocks = new Map<string, ReplayClock>();
  const produced: DecisionView[] = [];
  let consumed = 0;
  let inputs = 0;
  /** The recorded time of the input being fed: what the rooms decide by. */
  let inputAt = 0;
  let decisions = 0;
  const log = new EventLog({ ringSize: 1, now: () => 0 });
  log.on('record', (record) => {
    if (!isInputRecord(record)) produced.push(viewOf(record));
  });

  const fail = (record: EventRecord | null, expected: DecisionView | null, actual: DecisionView | null, message: string): ReplayResult => {
    for (const runtime of rooms.values()) runtime.stop();
    return { ok: false, inputs, decisions, record, expected, actual, message };
  };

  for (const record of records) {
    if (!isInputRecord(record)) {
      if (!compare) continue;
      const expected = viewOf(record);
      const actual = produced[consumed];
      if (actual === undefined) return fail(record, expected, null, `seq ${record.seq}: recorded ${record.kind}, replay decided nothing`);
      if (!isDeepStrictEqual(actual, expected)) return fail(record, expected, actual, `seq ${record.seq}: ${describeDifference(expected, actual)}`);
      consumed++;
      decisions++;
      continue;
    }
    if (compare && consumed < produced.length) {
      const extra = produced[consumed]!;
      return fail(record, null, extra, `before seq ${record.seq}: replay decided ${extra.kind} that the record does not have`);
    }
    inputs++;
    const error = feed(record);
    if (error) return fail(record, null, null, `seq ${record.seq}: ${error}`);
    if (options.onInput?.(record, rooms) === 'stop') break;
    if (!compare) produced.length = consumed = 0;
  }
  if (compare && consumed < produced.length) {
    const extra = produced[consumed]!;
    return fail(null, null, extra, `after the last record: replay decided ${extra.kind} that the record does not have`);
  }
  for (const runtime of rooms.values()) runtime.stop();
  return { ok: true, inputs, decisions };

  function feed(record: InputRecord): string | null {
    inputAt = record.at;
    if (record.kind === 'room.opened') {
      rooms.get(record.room)?.stop();
      rooms.set(record.room, openRoom(record.room, { ...record.data.settings, ...options.settingsOverride }));
      return null;
    }
    const runtime = rooms.get(record.room);
    if (!runtime) return `room "${record.room}" was never opened in this log`;
    return feedInput(runtime, record);
  }

  function openRoom(room: string, settings: RoomConfig): RoomRuntime {
    return new RoomRuntime({
      settings,
      log,
      effects: silentConnectionEffects,
      now: () => inputAt,
      clockFor: (conn) => {
        const clock = new ReplayClock();
        clocks.set(clockKey(room, conn), clock);
        return clock;
      },
    });
  }

  function feedInput(runtime: RoomRuntime, record: Exclude<InputRecord, { kind: 'room.opened' }>): string | null {
    switch (record.kind) {
      case 'connected':
        return runtime.connect(record.conn, record.data.session), null;
      case 'message':
        return runtime.message(record.conn, record.data), null;
      case 'pong':
        return runtime.pong(record.conn), null;
      case 'fault':
        return runtime.fault(record.conn, record.data.reason), null;
      case 'closed':
        return runtime.closed(record.conn, record.data.code), null;
      case 'overflow':
        return runtime.overflow(record.conn), null;
      case 'config':
        return runtime.configure(record.data), null;
      case 'timer': {
        const clock = clocks.get(clockKey(record.room, record.conn));
        if (clock?.fire(record.data.timer)) return null;
        return `timer ${record.data.timer} of ${record.conn ?? 'the room'} fired in the record but is not armed in replay`;
      }
    }
  }
}

function clockKey(room: string, conn: string | null): string {
  return `${room}\u0000${conn ?? ''}`;
}

function viewOf(record: EventRecord): DecisionView {
  return { room: record.room, kind: record.kind, conn: record.conn, data: record.data };
}

/** What differs between a recorded decision and the replayed one, in words: the kind, or the fields. */
export function describeDifference(expected: DecisionView, actual: DecisionView): string {
  if (expected.kind !== actual.kind) return `recorded ${expected.kind}, replay decided ${actual.kind}`;
  const fields: string[] = [];
  if (expected.room !== actual.room) fields.push(`room: recorded ${JSON.stringify(expected.room)}, replay ${JSON.stringify(actual.room)}`);
  if (expected.conn !== actual.conn) fields.push(`conn: recorded ${JSON.stringify(expected.conn)}, replay ${JSON.stringify(actual.conn)}`);
  for (const key of new Set([...Object.keys(expected.data), ...Object.keys(actual.data)])) {
    if (!isDeepStrictEqual(expected.data[key], actual.data[key])) {
      fields.push(`${key}: recorded ${JSON.stringify(expected.data[key])}, replay ${JSON.stringify(actual.data[key])}`);
    }
  }
  return `${expected.kind} differs in ${fields.join('; ')}`;
}
