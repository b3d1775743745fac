import { readFileSync, truncateSync } from 'node:fs';
import type { EventRecord } from '../log/event-record.js';
import { readEventLog } from '../log/read-event-log.js';
import { listNumberedFiles, paddedSeq } from './data-dir-files.js';

/** A segment of the event log in a data dir: `log-<first seq, 12 digits>.jsonl`. */
export interface LogSegment {
  path: string;
  name: string;
  /** The seq of its first record. */
  firstSeq: number;
}

const segmentPattern = /^log-(\d{12})\.jsonl$/;

/** The file name of the segment whose first record has `firstSeq`. */
export function segmentName(firstSeq: number): string {
  return `log-${paddedSeq(firstSeq)}.jsonl`;
}

/** The segments of a data dir in log order. */
export function listSegments(dir: string): LogSegment[] {
  return listNumberedFiles(dir, segmentPattern).map(({ path, name, number }) => ({ path, name, firstSeq: number }));
}

/** The records of a data dir's log, from the segment holding `fromSeq` on, and the torn tail if any. */
export interface SegmentedLog {
  records: EventRecord[];
  /** A last record cut off by a crash in the middle of a write: where it was and what it held. */
  torn: { segment: string; line: number; text: string } | null;
  segments: LogSegment[];
}

/**
 * Reads the segments that may hold records after `afterSeq` (all of them for 0) in order. Only the last
 * segment may end in a torn record (earlier ones were closed whole); with `cutTorn` the torn bytes are cut off
 * the file, so the next start appends after whole records. Throws `EventLogFormatError` for a segment that is
 * not an event log.
 */
export async function readSegments(dir: string, afterSeq = 0, options: { cutTorn?: boolean } = {}): Promise<SegmentedLog> {
  const all = listSegments(dir);
  let first = 0;
  for (let i = 0; i < all.length; i++) if (all[i]!.firstSeq <= afterSeq + 1) first = i;
  const segments = all.slice(first);
  const records: EventRecord[] = [];
  let torn: SegmentedLog['torn'] = null;
  for (const segment of segments) {
    const file = await readEventLog(segment.path);
    for (const record of file.records) if (record.seq > afterSeq) records.push(record);
    if (file.torn !== null) {
      torn = { segment: segment.name, line: file.torn.line, text: file.torn.text };
      if (options.cutTorn) cutTornTail(segment.path);
    }
  }
  return { records, torn, segments };
}

/** Truncates a file after its last whole line: a torn last line has no newline of its own, or is not a record. */
function cutTornTail(path: string): void {
  const bytes = readFileSync(path);
  const end = bytes[bytes.length - 1] === 0x0a ? bytes.lastIndexOf(0x0a, bytes.length - 2) : bytes.lastIndexOf(0x0a);
  truncateSync(path, end + 1);
}
