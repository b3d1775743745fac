import { isDeepStrictEqual } from 'node:util';
import { RoomRuntime, silentConnectionEffects } from '../rooms/room-runtime.js';
import type { RoomConfig } from '../config/server-config.js';
import type { AdmissionState } from '../../machines/admission/admission-state.js';
import type { ChatSeed } from '../../machines/chat/chat-types.js';
import { copyAdmission } from '../../machines/admission/admission-snapshot.js';
import { ReplayClock } from './actor-clocks.js';
import { EventLog } from './event-log.js';
import { isInputRecord, type ChatRecord, type DecisionRecord, type EventRecord, type InputRecord } from './event-record.js';
import { FoldError, RoomFold, type FoldedRoom } from './room-fold.js';

/** What a replayed decision looks like for comparison: everything but `seq` and `at`. */
export interface DecisionView {
  room: string;
  kind: string;
  conn: string | null;
  data: Record<string, unknown>;
}

export interface ReplayOptions {
  /**
   * Rooms as a snapshot left them, when the records start after it (a data dir whose older segments were
   * deleted). Records of a room are folded into it, not replayed, until the room's next start
   * (`room.opened` or `room.recovered`), from which it is replayed and compared.
   */
  seed?: Iterable<[string, FoldedRoom]>;
}

/**
 * What a replay found: every decision reproduced (`ok`), or the first divergence with the record where it
 * happened, what was recorded, what replay decided, and a one-line `message` saying what differs.
 */
export type ReplayResult =
  | { ok: true; inputs: number; decisions: number; /** Decisions folded, not replayed (see `seed`). */ folded?: number }
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

/**
 * Feeds the recorded inputs into fresh actors (at their recorded times), firing each timer when the record
 * says it fired, and compares every decision they make with the recorded one, in order. Stops at the first
 * divergence: a decision that differs, one the record has and replay does not make, or the reverse.
 */
export function replay(records: Iterable<EventRecord>, options: ReplayOptions = {}): ReplayResult {
  const run = new ReplayRun(options.seed);
  try {
    for (const record of records) {
      const failure = run.step(record);
      if (failure) return failure;
    }
    return run.finish();
  } finally {
    run.stop();
  }
}

/** One replay: fresh rooms on replay clocks, the decisions they made, and how far the record has checked them. */
class ReplayRun {
  private readonly rooms = new Map<string, RoomRuntime>();
  private readonly clocks = new Map<string, ReplayClock>();
  private readonly produced: DecisionView[] = [];
  private consumed = 0;
  private inputs = 0;
  private decisions = 0;
  /** The recorded time of the input being fed: what the rooms decide by. */
  private inputAt = 0;
  private readonly log = new EventLog({ ringSize: 1, now: () => 0 });
  /** The rooms as the recorded decisions left them: what a `room.recovered` goes on from. */
  private readonly fold: RoomFold;
  private folded = 0;

  constructor(seed?: Iterable<[string, FoldedRoom]>) {
    this.fold = new RoomFold(seed);
    this.log.on('record', (record) => {
      if (!isInputRecord(record)) this.produced.push(viewOf(record));
    });
  }

  /** One record: fed or compared while its room is replayed, only folded before that. */
  step(record: EventRecord): ReplayResult | null {
    const starts = record.kind === 'room.opened' || record.kind === 'room.recovered';
    if (!starts && !this.rooms.has(record.room) && this.fold.rooms.has(record.room)) {
      if (!isInputRecord(record)) this.folded++;
      return this.foldIn(record);
    }
    const failure = isInputRecord(record) ? this.feed(record) : this.compare(record);
    return failure ?? this.foldIn(record);
  }

  /** Folds a record into the rooms as recorded; a decision that does not fit them is where replay stops. */
  private foldIn(record: EventRecord): ReplayResult | null {
    try {
      this.fold.apply(record);
      return null;
    } catch (error) {
      if (error instanceof FoldError) return this.fail(record, null, null, error.message);
      throw error;
    }
  }

  /** A recorded decision: the next one replay made must be the same. */
  compare(record: DecisionRecord | ChatRecord): ReplayResult | null {
    const expected = viewOf(record);
    const actual = this.produced[this.consumed];
    if (actual === undefined) return this.fail(record, expected, null, `seq ${record.seq}: recorded ${record.kind}, replay decided nothing`);
    if (!isDeepStrictEqual(actual, expected)) return this.fail(record, expected, actual, `seq ${record.seq}: ${describeDifference(expected, actual)}`);
    this.consumed++;
    this.decisions++;
    return null;
  }

  /** A recorded input: every decision of the inputs before it must have been matched, then it is fed. */
  feed(record: InputRecord): ReplayResult | null {
    const extra = this.produced[this.consumed];
    if (extra) return this.fail(record, null, extra, `before seq ${record.seq}: replay decided ${extra.kind} that the record does not have`);
    this.inputs++;
    this.inputAt = record.at;
    const error = this.deliver(record) ?? this.actorFailure();
    return error === null ? null : this.fail(record, null, null, `seq ${record.seq}: ${error}`);
  }

  /** An actor that failed on the input just fed, in words; null when none did. */
  private actorFailure(): string | null {
    for (const runtime of this.rooms.values()) {
      if (runtime.failure !== null) return `an actor failed on this input: ${runtime.failure instanceof Error ? runtime.failure.message : String(runtime.failure)}`;
    }
    return null;
  }

  finish(): ReplayResult {
    const extra = this.produced[this.consumed];
    if (extra) return this.fail(null, null, extra, `after the last record: replay decided ${extra.kind} that the record does not have`);
    return { ok: true, inputs: this.inputs, decisions: this.decisions, ...(this.folded > 0 ? { folded: this.folded } : {}) };
  }

  stop(): void {
    for (const runtime of this.rooms.values()) runtime.stop();
  }

  private fail(record: EventRecord | null, expected: DecisionView | null, actual: DecisionView | null, message: string): ReplayResult {
    return { ok: false, inputs: this.inputs, decisions: this.decisions, record, expected, actual, message };
  }

  private deliver(record: InputRecord): string | null {
    if (record.kind === 'room.opened' || record.kind === 'room.recovered') {
      const folded = this.fold.rooms.get(record.room);
      if (record.kind === 'room.recovered' && folded === undefined) return `room "${record.room}" recovered, but its state before is not in this log`;
      this.rooms.get(record.room)?.stop();
      // A copy: the replayed room changes its state, the fold keeps following the record.
      const recovered = record.kind === 'room.recovered' ? copyAdmission(folded!.state) : undefined;
      this.rooms.set(record.room, this.openRoom(record.room, record.data.settings, recovered, record.data.chat));
      return null;
    }
    const runtime = this.rooms.get(record.room);
    if (!runtime) return `room "${record.room}" was never opened in this log`;
    if (record.kind === 'room.removed') {
      runtime.stop();
      this.rooms.delete(record.room);
      return null;
    }
    return this.deliverTo(runtime, record);
  }

  private openRoom(room: string, settings: RoomConfig, recovered?: AdmissionState, chat?: ChatSeed): RoomRuntime {
    return new RoomRuntime({
      settings,
      ...(recovered ? { recovered } : {}),
      ...(chat ? { chat } : {}),
      log: this.log,
      effects: silentConnectionEffects,
      now: () => this.inputAt,
      clockFor: (conn) => {
        const clock = new ReplayClock();
        this.clocks.set(clockKey(room, conn), clock);
        return clock;
      },
    });
  }

  private deliverTo(runtime: RoomRuntime, record: Exclude<InputRecord, { kind: 'room.opened' | 'room.removed' }>): string | null {
    switch (record.kind) {
      case 'connected':
        runtime.connect(record.conn, record.data.session, record.data.resume, record.data.priority);
        break;
      case 'message':
        runtime.message(record.conn, record.data);
        break;
      case 'pong':
        runtime.pong(record.conn);
        break;
      case 'fault':
        runtime.fault(record.conn, record.data.reason);
        break;
      case 'closed':
        runtime.closed(record.conn, record.data.code);
        break;
      case 'overflow':
        runtime.overflow(record.conn);
        break;
      case 'config':
        runtime.configure(record.data);
        break;
      case 'timer':
        if (!this.clocks.get(clockKey(record.room, record.conn))?.fire(record.data.timer)) {
          return `timer ${record.data.timer} of ${record.conn ?? 'the room'} fired in the record but is not armed in replay`;
        }
        break;
    }
    return null;
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
