import type { EventRecord } from '../log/event-record.js';
import type { FoldedRoom } from '../log/room-fold.js';
import { listSegments, readSegments, type SegmentedLog } from './log-segments.js';
import { DataDirRecoveryError, seedOf } from './recovery.js';
import { listSnapshots, readSnapshot, SnapshotCorruptError } from './snapshot-file.js';

/** A data dir's log as replay reads it: the records kept, and where they start. */
export interface DataDirLog {
  records: EventRecord[];
  /**
   * Rooms as the snapshot the kept log starts after left them (older segments were deleted); null when the
   * log is kept from its first record.
   */
  seed: [string, FoldedRoom][] | null;
  /** The snapshot the seed came from. */
  seededFrom: string | null;
  torn: SegmentedLog['torn'];
}

/**
 * Reads every record a data dir keeps, for replay and its questions; never changes the directory (a torn
 * tail is left out, not cut). When older segments were deleted, the oldest snapshot the kept log follows is
 * the seed. Throws ConfigError (`DataDirRecoveryError`) when no snapshot covers the gap.
 */
export async function readDataDirLog(dir: string): Promise<DataDirLog> {
  const firstSeq = listSegments(dir)[0]?.firstSeq ?? 1;
  if (firstSeq <= 1) {
    const log = await readSegments(dir, 0);
    return { records: log.records, seed: null, seededFrom: null, torn: log.torn };
  }
  // The oldest usable snapshot at or after the gap: replay checks as much of the kept log as it can.
  for (const file of listSnapshots(dir).reverse()) {
    if (file.seq + 1 < firstSeq) continue;
    try {
      const snapshot = readSnapshot(file.path);
      const log = await readSegments(dir, snapshot.seq);
      return { records: log.records, seed: seedOf(snapshot), seededFrom: file.name, torn: log.torn };
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
    }
  }
  throw new DataDirRecoveryError(`${dir}: the log starts at record ${firstSeq} and no snapshot covers the records before it`);
}
