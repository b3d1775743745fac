import { EventEmitter } from 'eventemitter3';
import type { RoomDecision } from '../../machines/room.machine.js';
import { logFormatVersion, recordFieldsOf, type ChatRecord, type DecisionRecord, type EventKind, type EventRecord, type RecordOf } from './event-record.js';

/** Where an event log keeps every record beyond its ring (the JSONL file). */
export interface RecordSink {
  write(record: EventRecord): void;
  close(): Promise<void>;
}

/** Options of an `EventLog`: ring size (records), clock (ms epoch) and sink. */
export interface EventLogOptions {
  /** How many recent records stay in memory for `since()` (the HTTP tail and the dashboard). */
  ringSize?: number;
  /** Clock for records appended without a time, ms epoch. */
  now?: () => number;
  sink?: RecordSink | null;
  /** The seq of the last record already in the log (a data dir's, on a restart): numbering goes on after it. */
  lastSeq?: number;
}

/**
 * The append-only event log: a sequence number per record, subscribers through an emitter (`record`), a
 * bounded ring of the newest records, and an optional sink that keeps them all.
 */
export class EventLog extends EventEmitter<{ record: [EventRecord] }> {
  readonly ringSize: number;
  private readonly ring: (EventRecord | undefined)[];
  private seq = 0;
  private readonly now: () => number;
  private readonly sink: RecordSink | null;

  constructor(options: EventLogOptions = {}) {
    super();
    this.ringSize = Math.max(1, options.ringSize ?? 10_000);
    this.ring = new Array<EventRecord | undefined>(this.ringSize);
    this.now = options.now ?? Date.now;
    this.sink = options.sink ?? null;
    this.seq = options.lastSeq ?? 0;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Appends one record with the next `seq` at `at` (default: the log's clock) and hands it to readers. */
  append<K extends EventKind>(room: string, kind: K, conn: RecordOf<K>['conn'], data: RecordOf<K>['data'], at = this.now()): RecordOf<K> {
    const record = { v: logFormatVersion, seq: ++this.seq, at, room, kind, conn, data } as RecordOf<K>;
    this.ring[record.seq % this.ringSize] = record;
    this.sink?.write(record);
    this.emit('record', record);
    return record;
  }

  /** Appends a room's decision, made at `at` (the time of the input it answers). */
  appendDecision(room: string, decision: RoomDecision, at: number): DecisionRecord | ChatRecord {
    const { kind, conn, data } = recordFieldsOf(decision);
    return this.append(room, kind, conn, data as never, at) as DecisionRecord | ChatRecord;
  }

  /** Records with seq > `after` still in the ring, oldest first, at most `limit`. */
  since(after: number, limit = 1000): EventRecord[] {
    const oldest = Math.max(1, this.seq - this.ringSize + 1);
    const out: EventRecord[] = [];
    for (let seq = Math.max(after + 1, oldest); seq <= this.seq && out.length < limit; seq++) {
      out.push(this.ring[seq % this.ringSize]!);
    }
    return out;
  }

  /** Flush and close the sink. */
  async close(): Promise<void> {
    await this.sink?.close();
  }
}
