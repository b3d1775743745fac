import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordSink } from '../log/event-log.js';
import type { EventRecord } from '../log/event-record.js';
import { syncDirectory } from './data-dir-files.js';
import { segmentName } from './log-segments.js';

export interface GroupCommitSinkOptions {
  /** A segment is closed and a new one started once it passes this size, bytes (default 64 MiB). */
  segmentBytes?: number;
  /**
   * A write or fsync failed. The batch is cut back off the segment and tried again every `retryMs`, and nothing
   * waiting on it runs until it is on disk; the operator must know (a full or failing disk).
   */
  onError?: (error: Error) => void;
  /** Wait between tries of a batch that failed, ms (default 1000). */
  retryMs?: number;
}

interface Batch {
  lines: string[];
  firstSeq: number;
  /** Run once the batch is on disk (written and fsynced). */
  committed: (() => void)[];
}

/**
 * The event log of a data dir: records appended to segment files and made durable by group commit. Records
 * appended in one turn of the event loop form a batch; a batch is written and fsynced as one (on libuv's
 * thread pool, so the event loop never waits), and the next batch starts as soon as the previous one is
 * durable. A burst of joins costs one fsync per batch, not one per join. `afterCommit` runs code once every
 * record appended so far is durable: the server acknowledges nothing before that.
 */
export class GroupCommitSink implements RecordSink {
  private pending: Batch | null = null;
  private inFlight: Batch | null = null;
  private file: FileHandle | null = null;
  private fileBytes = 0;
  private rotateRequested = true;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private retry: NodeJS.Timeout | null = null;
  private closing = false;
  /** The last failure while a batch waits to be tried again; null while the disk keeps up. */
  failure: Error | null = null;
  private readonly segmentBytes: number;
  /** Commits so far (fsyncs), for metrics and benches. */
  commits = 0;

  constructor(
    private readonly dir: string,
    private readonly options: GroupCommitSinkOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  }

  write(record: EventRecord): void {
    this.pending ??= { lines: [], firstSeq: record.seq, committed: [] };
    this.pending.lines.push(JSON.stringify(record));
    this.schedule();
  }

  /** Runs `fn` once every record written so far is durable; at once when none is waiting. */
  afterCommit(fn: () => void): void {
    const batch = this.pending ?? this.inFlight;
    if (batch === null) fn();
    else batch.committed.push(fn);
  }

  /** The next batch starts a new segment (after a snapshot, so older segments can be deleted whole). */
  rotate(): void {
    this.rotateRequested = true;
  }

  /** Resolves once everything written so far is durable. */
  flushed(): Promise<void> {
    return new Promise((resolve) => this.afterCommit(resolve));
  }

  /** Writes what waits (one last try when the disk is failing: what still fails is reported and dropped). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retry !== null) {
      clearTimeout(this.retry);
      this.retry = null;
      void this.commitNext();
    }
    await new Promise<void>((resolve) => (this.inFlight === null && this.pending === null ? resolve() : this.idle.push(resolve)));
    await this.file?.close();
    this.file = null;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight !== null || this.retry !== null) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.commitNext();
    });
  }

  private async commitNext(): Promise<void> {
    const batch = this.pending;
    if (batch === null || this.inFlight !== null) return;
    this.pending = null;
    this.inFlight = batch;
    try {
      await this.writeBatch(batch);
      this.failure = null;
    } catch (error) {
      this.failure = error as Error;
      this.options.onError?.(error as Error);
      await this.cutBack();
      this.inFlight = null;
      if (this.closing) return void this.idle.splice(0).forEach((resolve) => resolve());
      this.requeue(batch);
      this.retry = setTimeout(() => {
        this.retry = null;
        void this.commitNext();
      }, this.options.retryMs ?? 1000);
      return;
    }
    this.inFlight = null;
    for (const fn of batch.committed) fn();
    if (this.pending !== null) void this.commitNext();
    else for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Cuts a failed batch's bytes off the segment and lets the next try open it afresh, so no line is torn. */
  private async cutBack(): Promise<void> {
    const file = this.file;
    this.file = null;
    this.rotateRequested = false;
    try {
      await file?.truncate(this.fileBytes);
    } catch {
      // A device that cannot be truncated: the reopened segment is appended to as it is.
    }
    await file?.close().catch(() => {});
  }

  /** Puts a failed batch back in front of what was written since, to be tried again as one. */
  private requeue(batch: Batch): void {
    const later = this.pending;
    this.pending = later === null ? batch : { lines: batch.lines.concat(later.lines), firstSeq: batch.firstSeq, committed: batch.committed.concat(later.committed) };
  }

  private async writeBatch(batch: Batch): Promise<void> {
    if (this.file === null || this.rotateRequested || this.fileBytes >= this.segmentBytes) {
      await this.file?.close();
      this.file = null;
      this.file = await open(join(this.dir, segmentName(batch.firstSeq)), 'a', 0o600);
      this.fileBytes = 0; // what a failed stat would cut back to
      this.fileBytes = (await this.file.stat()).size;
      await syncDirectory(this.dir); // the new file's name must survive a power cut too
      this.rotateRequested = false;
    }
    const chunk = Buffer.from(batch.lines.join('\n') + '\n');
    // The write only copies to the page cache (microseconds), so it is made at once; the fsync waits off the loop.
    writeAll(this.file.fd, chunk);
    await this.file.datasync();
    this.fileBytes += chunk.length;
    this.commits++;
  }
}

/** Writes every byte of `chunk` to `fd` (a write may take fewer bytes than asked). */
function writeAll(fd: number, chunk: Buffer): void {
  for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
}
