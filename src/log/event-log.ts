import { EventEmitter } from 'eventemitter3';
import type { EventRecord } from './event-record.js';

export interface RecordSink {
  write(record: EventRecord): void;
  close(): Promise<void>;
}

export interface EventLogOptions {
  /** How many recent records stay in memory for `since()` (the HTTP tail and the dashboard). */
  ringSize?: number;
  /** Wall clock for the `at` field only; nothing decides on it. */
  now?: () => number;
  sink?: RecordSink | null;
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
  }

  get lastSeq(): number {
    return this.seq;
  }

  append(room: string, kind: EventRecord['kind'], conn: string | null, data: Record<string, unknown>): EventRecord {
    const record: EventRecord = { seq: ++this.seq, at: this.now(), room, kind, conn, data };
    this.ring[record.seq % this.ringSize] = record;
    this.sink?.write(record);
    this.emit('record', record);
    return record;
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
