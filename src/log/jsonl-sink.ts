import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { RecordSink } from './event-log.js';
import type { EventRecord } from './event-record.js';

export interface JsonlSinkOptions {
  /** An already open file descriptor for `path` (see `JsonlSink.open`). */
  fd?: number;
  /**
   * Called when records could not be written (disk full, file gone): with the error and how many records
   * were lost. Called for every lost batch; appends never throw.
   */
  onError?: (error: Error, lostRecords: number) => void;
}

/**
 * Appends records to a JSONL file. Lines are batched per turn of the event loop so a burst of decisions
 * costs one write, not one per record.
 */
export class JsonlSink implements RecordSink {
  private readonly stream: WriteStream;
  private pending: string[] = [];
  private flushScheduled = false;
  private streamError: Error | null = null;
  private readonly onError: JsonlSinkOptions['onError'];

  /**
   * Opens `path` for appending at once, so a path that cannot be opened (a missing directory, no permission)
   * throws here, at start, with the system's error (`ENOENT`, `EACCES`, …), rather than failing later.
   */
  static open(path: string, options: Omit<JsonlSinkOptions, 'fd'> = {}): JsonlSink {
    return new JsonlSink(path, { ...options, fd: openSync(path, 'a') });
  }

  constructor(path: string, options: JsonlSinkOptions = {}) {
    this.onError = options.onError;
    this.stream = createWriteStream(path, { flags: 'a', ...(options.fd === undefined ? {} : { fd: options.fd }) });
    this.stream.on('error', (error) => {
      this.streamError ??= error;
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
    const lines = this.pending;
    this.pending = [];
    if (this.streamError) return void this.onError?.(this.streamError, lines.length);
    this.stream.write(lines.join('\n') + '\n', (error) => {
      if (!error) return;
      this.streamError ??= error;
      this.onError?.(error, lines.length);
    });
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve, reject) => {
      // The first failure says what went wrong; later ones (end after destroy) only follow from it.
      this.stream.end((error?: Error | null) => {
        const failure = this.streamError ?? error;
        if (failure) reject(failure);
        else resolve();
      });
    });
  }
}
