import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logFormatVersion, type EventRecord } from '../../src/log/event-record.js';
import { JsonlSink } from '../../src/log/jsonl-sink.js';
import { readEventLog } from '../../src/log/read-event-log.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anteroom-jsonl-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function record(seq: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return { v: logFormatVersion, seq, at: 1_700_000_000_000 + seq, room: 'main', kind: 'connected', conn: `c${seq}`, data: { session: `s${seq}` }, ...overrides } as EventRecord;
}

describe('JsonlSink', () => {
  it('writes one JSON line per record, in order', async () => {
    const file = path.join(dir, 'events.jsonl');
    const sink = new JsonlSink(file);
    const records = [record(1), record(2, { kind: 'admitted', data: { session: 's2', at: 0, ttlUntil: null } }), record(3, { conn: null, kind: 'config', data: { type: 'pause' } })];
    for (const r of records) sink.write(r);
    await sink.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines).toEqual([...records.map((r) => JSON.stringify(r)), '']);
    expect(sink.error).toBeNull();
  });

  it('flushes records written in the same turn when closed, before the batch would have run', async () => {
    const file = path.join(dir, 'events.jsonl');
    const sink = new JsonlSink(file);
    sink.write(record(1));
    sink.write(record(2));
    await sink.close();
    expect((await readEventLog(file)).records).toEqual([record(1), record(2)]);
  });

  it('appends to a file that already holds records', async () => {
    const file = path.join(dir, 'events.jsonl');
    const first = new JsonlSink(file);
    first.write(record(1));
    await first.close();
    const second = new JsonlSink(file);
    second.write(record(2));
    await second.close();
    expect((await readEventLog(file)).records).toEqual([record(1), record(2)]);
  });

  it('reports a file it cannot open on close and through error, without throwing on write', async () => {
    const sink = new JsonlSink(path.join(dir, 'missing-directory', 'events.jsonl'));
    expect(() => sink.write(record(1))).not.toThrow();
    await expect(sink.close()).rejects.toThrow(/ENOENT/);
    expect(sink.error).toBeInstanceOf(Error);
  });
});
