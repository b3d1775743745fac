import { ConfigError } from '../config/config-error.js';
import { restoreAdmission } from '../../machines/admission/admission-snapshot.js';
import { RoomFold, type FoldedRoom } from '../log/room-fold.js';
import { listSegments, readSegments, type SegmentedLog } from './log-segments.js';
import { listSnapshots, readSnapshot, SnapshotCorruptError, type DataDirSnapshot } from './snapshot-file.js';

/** What a data dir holds once folded: every room as the log left it. */
export interface RecoveredDataDir {
  rooms: Map<string, FoldedRoom>;
  /** Rooms an operator removed: not served again on this start. */
  removed: ReadonlySet<string>;
  /** The last record's seq (0 for an empty dir): the log goes on after it. */
  lastSeq: number;
  /** The snapshot recovery started from (null: the log from its first record). */
  snapshot: { name: string; seq: number } | null;
  /** Records folded after the snapshot. */
  tail: number;
  torn: SegmentedLog['torn'];
  /** Snapshots that could not be used, and why (recovery fell back to an older one, or to the log). */
  skipped: string[];
}

/** The data dir's log does not reach back far enough to rebuild its rooms. */
export class DataDirRecoveryError extends ConfigError {}

/**
 * Rebuilds every room of a data dir: the newest usable snapshot, then the log tail after it folded through
 * `evolve` (RoomFold). A damaged snapshot falls back to the one before, then to the log alone. A torn last
 * record is left out and reported in `torn` (and, with `cutTorn`, cut off the file). Throws
 * `DataDirRecoveryError` when no snapshot is usable and the log no longer starts at its first record.
 */
export async function recoverDataDir(dir: string, options: { cutTorn?: boolean } = {}): Promise<RecoveredDataDir> {
  const skipped: string[] = [];
  const firstSeq = listSegments(dir)[0]?.firstSeq ?? 1;
  let snapshot: (DataDirSnapshot & { name: string }) | null = null;
  for (const file of listSnapshots(dir)) {
    try {
      if (file.seq + 1 < firstSeq) throw new SnapshotCorruptError(`${file.name}: older than the log kept`);
      snapshot = { ...readSnapshot(file.path), name: file.name };
      break;
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
      skipped.push(error.message);
    }
  }
  if (snapshot === null && firstSeq > 1) {
    throw new DataDirRecoveryError(`${dir}: no usable snapshot and the log starts at record ${firstSeq}, not 1: restore the directory from a backup`);
  }
  const afterSeq = snapshot?.seq ?? 0;
  const log = await readSegments(dir, afterSeq, options);
  const fold = new RoomFold(snapshot === null ? [] : seedOf(snapshot), snapshot?.removed ?? []);
  for (const record of log.records) fold.apply(record);
  const lastSeq = log.records.at(-1)?.seq ?? afterSeq;
  return { rooms: fold.rooms, removed: fold.removed, lastSeq, snapshot: snapshot && { name: snapshot.name, seq: snapshot.seq }, tail: log.records.length, torn: log.torn, skipped };
}

/** The rooms of a snapshot, as a fold starts from them. */
export function seedOf(snapshot: DataDirSnapshot): [string, FoldedRoom][] {
  return snapshot.rooms.map((room) => [
    room.name,
    { settings: room.settings, state: restoreAdmission(room.admission), ...(room.createdBy === undefined ? {} : { createdBy: room.createdBy }) },
  ]);
}
