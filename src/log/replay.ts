import { isDeepStrictEqual } from 'node:util';
import { RoomRuntime, silentConnectionEffects, type InboundMessage, type RoomAdminCommand } from '../rooms/room-runtime.js';
import type { RoomConfig } from '../config/server-config.js';
import { ReplayClock } from './actor-clocks.js';
import { EventLog } from './event-log.js';
import { isInputRecord, type EventRecord } from './event-record.js';

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
      if (!isDeepStrictEqual(actual, expected)) return fail(record, expected, actual, `seq ${record.seq}: recorded ${record.kind}, replay decided ${actual.kind}`);
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

  function feed(record: EventRecord): string | null {
    if (record.kind === 'room.opened') {
      const settings = { ...(record.data.settings as RoomConfig), ...options.settingsOverride };
      rooms.get(record.room)?.stop();
      rooms.set(
        record.room,
        new RoomRuntime({
          settings,
          log,
          effects: silentConnectionEffects,
          clockFor: (conn) => {
            const clock = new ReplayClock();
            clocks.set(clockKey(record.room, conn), clock);
            return clock;
          },
        }),
      );
      return null;
    }
    const runtime = rooms.get(record.room);
    if (!runtime) return `room "${record.room}" was never opened in this log`;
    const conn = record.conn ?? '';
    switch (record.kind) {
      case 'connected':
        runtime.connect(conn, String(record.data.session));
        return null;
      case 'message':
        runtime.message(conn, record.data as unknown as InboundMessage);
        return null;
      case 'pong':
        runtime.pong(conn);
        return null;
      case 'closed':
        runtime.closed(conn, Number(record.data.code));
        return null;
      case 'overflow':
        runtime.overflow(conn);
        return null;
      case 'config':
        runtime.configure(record.data as unknown as RoomAdminCommand);
        return null;
      case 'timer': {
        const clock = clocks.get(clockKey(record.room, record.conn));
        const timer = Number(record.data.timer);
        if (!clock?.fire(timer)) return `timer ${timer} of ${record.conn ?? 'the room'} fired in the record but is not armed in replay`;
        return null;
      }
      default:
        return `unknown input kind ${record.kind}`;
    }
  }
}

function clockKey(room: string, conn: string | null): string {
  return `${room}\u0000${conn ?? ''}`;
}

function viewOf(record: EventRecord): DecisionView {
  return { room: record.room, kind: record.kind, conn: record.conn, data: record.data };
}
