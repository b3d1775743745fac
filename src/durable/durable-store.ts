import { mkdirSync, unlinkSync } from 'node:fs';
import { snapshotOfAdmission } from '../../machines/admission/admission-snapshot.js';
import type { AdmissionState } from '../../machines/admission/admission-state.js';
import type { RoomConfig } from '../config/server-config.js';
import type { EventLog } from '../log/event-log.js';
import type { RoomRuntime } from '../rooms/room-runtime.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { loadOrCreateSecrets, type DataDirSecrets } from './data-dir-secrets.js';
import { GroupCommitSink } from './group-commit-sink.js';
import { listSegments } from './log-segments.js';
import { recoverDataDir, type RecoveredDataDir } from './recovery.js';
import { listSnapshots, pruneSnapshots, writeSnapshot } from './snapshot-file.js';
import { RoomSecrets } from './room-secrets.js';

export interface DurableStoreOptions {
  /** A snapshot after this many records (default 100000). */
  snapshotEveryRecords?: number;
  /** A snapshot at least this often while records arrive, ms (default 60000). */
  snapshotIntervalMs?: number;
  segmentBytes?: number;
  /** One line for the operator (a torn record cut off, a snapshot skipped); stderr in the command line. */
  report?: (line: string) => void;
  onError?: (error: Error) => void;
}

/** Snapshots kept: the newest, and the one before in case the newest is damaged. */
const snapshotsKept = 2;

/**
 * A data dir at run time: its lock, its secrets, the rooms it recovered, the group-committed log sink, and the
 * snapshots that bound the next recovery (older segments are deleted once two newer snapshots cover them).
 */
export class DurableStore {
  readonly sink: GroupCommitSink;
  private log: EventLog | null = null;
  private rooms: () => Iterable<RoomRuntime> = () => [];
  private sinceSnapshot = 0;
  private snapshotDue = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private snapshotting: Promise<void> | null = null;
  /** Rooms an operator removed and nobody opened again: kept in every snapshot. */
  private readonly removed: Set<string>;
  /** Ticket secrets of rooms created at run time: kept beside the log, never in it. */
  readonly roomSecrets: RoomSecrets;

  private constructor(
    readonly dir: string,
    readonly secrets: DataDirSecrets,
    readonly recovered: RecoveredDataDir,
    private readonly lock: DataDirLock,
    private readonly options: DurableStoreOptions,
  ) {
    this.sink = new GroupCommitSink(dir, { segmentBytes: options.segmentBytes, onError: options.onError });
    this.removed = new Set(recovered.removed);
    this.roomSecrets = new RoomSecrets(dir);
  }

  /**
   * Creates the directory if needed (0700), takes its lock, reads or makes its secrets and recovers its rooms.
   * Throws ConfigError when another server holds the directory or its log cannot rebuild the rooms.
   */
  static async open(dir: string, options: DurableStoreOptions = {}): Promise<DurableStore> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lock = acquireDataDirLock(dir);
    try {
      const secrets = loadOrCreateSecrets(dir);
      const recovered = await recoverDataDir(dir, { cutTorn: true });
      const report = options.report ?? (() => {});
      for (const why of recovered.skipped) report(`snapshot skipped: ${why}`);
      if (recovered.torn !== null) {
        report(`${recovered.torn.segment}: line ${recovered.torn.line}, the last, was cut off by a crash in the middle of a write: left out (${recovered.torn.text.length} bytes)`);
      }
      return new DurableStore(dir, secrets, recovered, lock, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * The recovered state of the room `settings` names, for a `RoomRuntime` to go on from (taken once);
   * undefined for a room the data dir does not hold.
   */
  recoveredRoom(settings: RoomConfig): AdmissionState | undefined {
    return this.recovered.rooms.get(settings.name)?.state;
  }

  /**
   * A recovered room's first steps, recorded as operator commands: a capacity or line limit the configuration
   * changed since the last start is applied (one the admin API changed, and the configuration did not, is
   * kept), then every place and seat is held for the resume window.
   */
  resumeRoom(runtime: RoomRuntime): void {
    const before = this.recovered.rooms.get(runtime.name)?.settings;
    if (before === undefined) return;
    const now = runtime.startedWith;
    if (now.capacity !== before.capacity && now.capacity !== runtime.capacity) runtime.configure({ type: 'setCapacity', capacity: now.capacity });
    if (now.maxQueue !== before.maxQueue && now.maxQueue !== runtime.maxQueue) runtime.configure({ type: 'setMaxQueue', maxQueue: now.maxQueue });
    runtime.holdForRestart();
  }

  /** Rooms the data dir holds that `configured` does not name: their places are not served. */
  unservedRooms(configured: readonly RoomConfig[]): string[] {
    const names = new Set(configured.map((room) => room.name));
    return [...this.recovered.rooms.keys()].filter((name) => !names.has(name) && this.recovered.rooms.get(name)!.createdBy === undefined);
  }

  /** Rooms an operator created at run time that the data dir holds: served again, as the operator left them. */
  operatorRooms(): RoomConfig[] {
    return [...this.recovered.rooms.values()]
      .filter((room) => room.createdBy === 'operator')
      .map((room) => {
        const ticketSecret = this.roomSecrets.get(room.settings.name);
        return ticketSecret === undefined ? room.settings : { ...room.settings, ticketSecret };
      });
  }

  /** Whether an operator removed the room: a restart does not bring it back, whatever the configuration says. */
  wasRemoved(name: string): boolean {
    return this.removed.has(name);
  }

  /** Starts taking snapshots of `rooms` as `log` grows: every N records, and every M ms when any arrived. */
  startSnapshots(log: EventLog, rooms: () => Iterable<RoomRuntime>): void {
    this.log = log;
    this.rooms = rooms;
    const every = this.options.snapshotEveryRecords ?? 100_000;
    log.on('record', (record) => {
      // Removals live in no room's state: followed here so every snapshot says which rooms stay removed.
      if (record.kind === 'room.removed') this.removed.add(record.room);
      else if (record.kind === 'room.opened') this.removed.delete(record.room);
      // Taken on the next turn, never inside an input: a decision is recorded after the room applied the
      // whole command, so mid-input the state runs ahead of the log's last seq.
      if (++this.sinceSnapshot < every || this.snapshotDue) return;
      this.snapshotDue = true;
      setImmediate(() => {
        this.snapshotDue = false;
        void this.snapshot();
      });
    });
    this.timer = setInterval(() => {
      if (this.sinceSnapshot > 0) void this.snapshot();
    }, this.options.snapshotIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /**
   * Takes a snapshot of every room now: the state is read at once (at the log's last seq), written once the
   * log is durable up to that seq, then older snapshots and the segments no kept snapshot needs are deleted.
   */
  snapshot(): Promise<void> {
    // Call it between inputs (a timer, a turn of its own), when every room's state matches the log.
    this.snapshotting ??= this.takeSnapshot().finally(() => (this.snapshotting = null));
    return this.snapshotting;
  }

  private async takeSnapshot(): Promise<void> {
    if (this.log === null) return;
    this.sinceSnapshot = 0;
    const seq = this.log.lastSeq;
    const rooms = [...this.rooms()].map((room) => ({
      name: room.name,
      settings: withoutTicketSecret(room.startedWith),
      admission: snapshotOfAdmission(room.admission),
      ...(room.createdBy === undefined ? {} : { createdBy: room.createdBy }),
    }));
    const removed = [...this.removed];
    this.sink.rotate();
    await this.sink.flushed();
    try {
      await writeSnapshot(this.dir, { seq, at: Date.now(), rooms, removed });
      pruneSnapshots(this.dir, snapshotsKept);
      this.deleteCoveredSegments();
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }

  /**
   * Deletes segments whose every record is at or before the oldest kept snapshot, once there are two: should
   * the newest prove unreadable, recovery falls back to the older one and the log after it.
   */
  private deleteCoveredSegments(): void {
    const kept = listSnapshots(this.dir);
    if (kept.length < 2) return;
    const oldestKept = kept.at(-1)!;
    const segments = listSegments(this.dir);
    for (let i = 0; i + 1 < segments.length; i++) {
      if (segments[i + 1]!.firstSeq - 1 <= oldestKept.seq) unlinkSync(segments[i]!.path);
    }
  }

  /** Stops snapshots, takes a last one (so the next start folds no tail), closes the log and frees the lock. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    // A failing disk takes no snapshot (it would wait for the log forever); the sink makes one last try.
    if (this.sink.failure === null) {
      await this.snapshotting;
      if (this.log !== null && this.sinceSnapshot > 0) await this.snapshot();
    }
    await this.sink.close();
    this.lock.release();
  }
}

/** A room's settings as a snapshot keeps them: a ticket secret lives only in `room-secrets.json`. */
function withoutTicketSecret(settings: RoomConfig): RoomConfig {
  const { ticketSecret: _secret, ...rest } = settings;
  return rest;
}
