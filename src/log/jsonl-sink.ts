import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RecordSink } from './event-log.js';
import type { EventRecord } from './event-record.js';

/**
 * Appends records to a JSONL file. Lines are batched per turn of the event loop so a burst of decisions
 * costs one write, not one per record.
 */
export class JsonlSink implements RecordSink {
  private readonly stream: WriteStream;
  private pending: string[] = [];
  private flushScheduled = false;
  private streamError: Error | null = null;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (error) => {
      this.streamError = error;
    });
  }

  /** A write error (disk full, bad path) surfaces here and on close; appends never throw. */
  get error(): Error | null {
    return this.streamError;
  }

  write(record: EventRecord): void {
    this.pending.push(JSON.stringify(record));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('\n') + '\n';
    this.pending = [];
    this.stream.write(chunk);
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve, reject) => {
      // On an open failure the end callback gets the error before the stream's 'error' event fires.
      this.stream.end((error?: Error | null) => {
        const failure = error ?? this.streamError;
        if (failure) reject(failure);
        else resolve();
      });
    });
  }
}

/** Reads a JSONL event log; a line that is not a record is an error naming its line number. */
export async function readJsonlRecords(path: string): Promise<EventRecord[]> {
  const records: EventRecord[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${lineNumber}: not JSON`);
    }
    if (!isEventRecord(value)) throw new Error(`${path}:${lineNumber}: not an event record`);
    records.push(value);
  }
  return records;
}

function isEventRecord(value: unknown): value is EventRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.seq === 'number' &&
    typeof r.at === 'number' &&
    typeof r.room === 'string' &&
    typeof r.kind === 'string' &&
    (r.conn === null || typeof r.conn === 'string') &&
    typeof r.data === 'object' &&
    r.data !== null
  );
}
