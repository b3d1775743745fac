import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EventRecord } from './event-record.js';
import { recordShapeProblem } from './record-shape.js';
import { EventLogFormatError, RecordUpgrade } from './record-upgrade.js';

export { EventLogFormatError } from './record-upgrade.js';

/** A log file as read: its intact records (upgraded to this release's format) and a torn last line, if any. */
export interface EventLogFile {
  records: EventRecord[];
  /** The last line, cut off by a crash in the middle of a write: left out and reported, never fatal. */
  torn: { line: number; text: string } | null;
}

/**
 * Reads a JSONL event log. Blank lines and CRLF endings are fine. A last line that is not a whole record is a
 * torn write: it is cut off and reported in `torn`. Any other line that is not a record means the file is not
 * an event log: `EventLogFormatError`. Records of older formats are upgraded (`RecordUpgrade`). File-system
 * errors (missing file, permissions) are thrown as they come.
 */
export async function readEventLog(path: string): Promise<EventLogFile> {
  const upgrade = new RecordUpgrade();
  const records: EventRecord[] = [];
  let bad: { line: number; text: string; why: string } | null = null;
  let lineNumber = 0;
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    lineNumber++;
    if (text.trim() === '') continue;
    if (bad !== null) throw new EventLogFormatError(`${path}:${bad.line}: ${bad.why}: not an anteroom event log`);
    const parsed = parseRecord(text);
    if (typeof parsed === 'string') {
      bad = { line: lineNumber, text, why: parsed };
      continue;
    }
    const record = upgrade.apply(parsed, `${path}:${lineNumber}`);
    // A whole line whose data is wrong for its kind is no torn write: the file is not a log this reads.
    const problem = recordShapeProblem(record.kind, record.conn, record.data as Record<string, unknown>);
    if (problem !== null) throw new EventLogFormatError(`${path}:${lineNumber}: ${problem}`);
    records.push(record);
  }
  if (bad !== null && records.length === 0) throw new EventLogFormatError(`${path}:${bad.line}: ${bad.why}: not an anteroom event log`);
  return { records, torn: bad === null ? null : { line: bad.line, text: bad.text } };
}

/**
 * The `seq` of the last whole record in a log file (0 for a missing or empty file, or one whose tail holds no
 * record), read from the file's last 64 KiB only, so a long log costs nothing more at start. A server that
 * appends to the file numbers on from it, so `seq` stays unique across runs.
 */
export function lastSeqInFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    const lines = tail.toString('utf8').split('\n').reverse();
    for (const line of lines) {
      const parsed = line.trim() === '' ? null : parseRecord(line);
      if (parsed !== null && typeof parsed !== 'string') return parsed.seq;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/**
 * One line as a record, or why it is not one. The fields every record has are checked; what a kind's `data`
 * holds is the writer's, read as written.
 */
function parseRecord(text: string): EventRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not an event record';
  return hasRecordShape(value) ? value : 'not an event record';
}

function hasRecordShape(value: object): value is EventRecord {
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
