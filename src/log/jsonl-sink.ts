import { createWriteStream, type WriteStream } from 'node:fs';
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
