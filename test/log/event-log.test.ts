import { describe, expect, it, vi } from 'vitest';
import { EventLog, type RecordSink } from '../../src/log/event-log.js';
import type { EventRecord } from '../../src/log/event-record.js';

/** A log whose `at` is a counter, so records can be told apart by time too. */
function logOf(options: { ringSize?: number; sink?: RecordSink } = {}) {
  let now = 1000;
  return new EventLog({ ...options, now: () => now++ });
}

function appendMany(log: EventLog, count: number): EventRecord[] {
  return Array.from({ length: count }, (_, i) => log.append('main', 'connected', `c${i + 1}`, { session: `s${i + 1}` }));
}

const seqs = (records: EventRecord[]) => records.map((record) => record.seq);

describe('EventLog.append', () => {
  it('numbers records 1, 2, 3, … and stamps them with the given clock', () => {
    const log = logOf();
    expect(log.lastSeq).toBe(0);
    const first = log.append('main', 'connected', 'c1', { session: 's1' });
    const second = log.append('lobby', 'admitted', 'c1', { session: 's1', at: 1001, ttlUntil: null });
    const third = log.append('main', 'config', null, { type: 'pause' });
    expect(first).toEqual({ v: 3, seq: 1, at: 1000, room: 'main', kind: 'connected', conn: 'c1', data: { session: 's1' } });
    expect(second).toEqual({ v: 3, seq: 2, at: 1001, room: 'lobby', kind: 'admitted', conn: 'c1', data: { session: 's1', at: 1001, ttlUntil: null } });
    expect(third).toEqual({ v: 3, seq: 3, at: 1002, room: 'main', kind: 'config', conn: null, data: { type: 'pause' } });
    expect(log.lastSeq).toBe(3);
  });

  it('tells every subscriber about every record, in order, until it unsubscribes', () => {
    const log = logOf();
    const first: number[] = [];
    const second: EventRecord[] = [];
    const onFirst = (record: EventRecord) => first.push(record.seq);
    log.on('record', onFirst);
    log.on('record', (record) => second.push(record));
    const appended = appendMany(log, 3);
    log.off('record', onFirst);
    appendMany(log, 2);
    expect(first).toEqual([1, 2, 3]);
    expect(second).toEqual([...appended, ...log.since(3)]);
    expect(seqs(second)).toEqual([1, 2, 3, 4, 5]);
  });

  it('writes every record to the sink and closes the sink on close', async () => {
    const written: EventRecord[] = [];
    const sink: RecordSink = { write: (record) => written.push(record), close: vi.fn(async () => {}) };
    const log = logOf({ sink });
    const appended = appendMany(log, 4);
    expect(written).toEqual(appended);
    await log.close();
    expect(sink.close).toHaveBeenCalledTimes(1);
  });

  it('closes without a sink', async () => {
    await expect(logOf().close()).resolves.toBeUndefined();
  });
});

describe('EventLog.since', () => {
  it('returns the records after a seq, oldest first', () => {
    const log = logOf();
    const appended = appendMany(log, 5);
    expect(log.since(0)).toEqual(appended);
    expect(seqs(log.since(2))).toEqual([3, 4, 5]);
    expect(log.since(5)).toEqual([]);
    expect(log.since(99)).toEqual([]);
  });

  it('returns at most limit records, the oldest ones first, so a reader can page on', () => {
    const log = logOf();
    appendMany(log, 10);
    expect(seqs(log.since(0, 3))).toEqual([1, 2, 3]);
    expect(seqs(log.since(3, 3))).toEqual([4, 5, 6]);
    expect(seqs(log.since(9, 3))).toEqual([10]);
    expect(log.since(0, 0)).toEqual([]);
  });

  it('keeps only the newest ringSize records in memory', () => {
    const log = logOf({ ringSize: 4 });
    const appended = appendMany(log, 10);
    expect(log.ringSize).toBe(4);
    expect(log.since(0)).toEqual(appended.slice(6));
    expect(seqs(log.since(0))).toEqual([7, 8, 9, 10]);
    expect(seqs(log.since(8))).toEqual([9, 10]);
    expect(seqs(log.since(0, 2))).toEqual([7, 8]);
  });

  it('keeps at least one record whatever the ring size asked for', () => {
    const log = logOf({ ringSize: 0 });
    appendMany(log, 3);
    expect(log.ringSize).toBe(1);
    expect(seqs(log.since(0))).toEqual([3]);
  });

  it('defaults to a ring of 10,000 records', () => {
    const log = logOf();
    appendMany(log, 10_005);
    const kept = log.since(0, Infinity);
    expect(kept).toHaveLength(10_000);
    expect(kept[0]?.seq).toBe(6);
    expect(kept.at(-1)?.seq).toBe(10_005);
  });
});
