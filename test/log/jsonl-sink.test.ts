import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { EventLog } from '../../src/log/event-log.js';
import type { EventRecord } from '../../src/log/event-record.js';
import { JsonlSink, readJsonlRecords } from '../../src/log/jsonl-sink.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anteroom-jsonl-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function record(seq: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return { v: 2, seq, at: 1_700_000_000_000 + seq, room: 'main', kind: 'connected', conn: `c${seq}`, data: { session: `s${seq}` }, ...overrides } as EventRecord;
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
    expect(await readJsonlRecords(file)).toEqual([record(1), record(2)]);
  });

  it('appends to a file that already holds records', async () => {
    const file = path.join(dir, 'events.jsonl');
    const first = new JsonlSink(file);
    first.write(record(1));
    await first.close();
    const second = new JsonlSink(file);
    second.write(record(2));
    await second.close();
    expect(await readJsonlRecords(file)).toEqual([record(1), record(2)]);
  });

  it('reports a file it cannot open on close and through error, without throwing on write', async () => {
    const sink = new JsonlSink(path.join(dir, 'missing-directory', 'events.jsonl'));
    expect(() => sink.write(record(1))).not.toThrow();
    await expect(sink.close()).rejects.toThrow(/ENOENT/);
    expect(sink.error).toBeInstanceOf(Error);
  });
});

describe('readJsonlRecords', () => {
  it('reads back what an event log wrote through the sink', async () => {
    const file = path.join(dir, 'events.jsonl');
    let now = 0;
    const log = new EventLog({ sink: new JsonlSink(file), now: () => now++ });
    const appended = [
      log.append('main', 'room.opened', null, { settings: { name: 'main', ...defaultRoomSettings, capacity: 2 } }),
      log.append('main', 'connected', 'c1', { session: 's1' }),
      log.append('main', 'admitted', 'c1', { session: 's1', at: 2, ttlUntil: null }),
      log.append('main', 'message', 'c1', { type: 'resume', session: null }),
      log.append('main', 'released', null, { session: 's9', from: 'queue', reason: 'hold_expired' }),
    ];
    await log.close();
    expect(await readJsonlRecords(file)).toEqual(appended);
  });

  it('skips blank lines, including a trailing one and CRLF endings', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(record(1))}\r\n\r\n   \n${JSON.stringify(record(2))}\n\n`);
    expect(await readJsonlRecords(file)).toEqual([record(1), record(2)]);
  });

  it('names the line number of a line that is not JSON', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, [JSON.stringify(record(1)), JSON.stringify(record(2)), '{"seq": 3, "at":', JSON.stringify(record(4))].join('\n'));
    await expect(readJsonlRecords(file)).rejects.toThrow(`${file}:3: not JSON`);
  });

  it.each([
    ['an array', '[1, 2]'],
    ['null', 'null'],
    ['a record without seq', JSON.stringify({ ...record(2), seq: undefined })],
    ['a record with a string seq', JSON.stringify({ ...record(2), seq: '2' })],
    ['a record with a numeric conn', JSON.stringify({ ...record(2), conn: 7 })],
    ['a record with null data', JSON.stringify({ ...record(2), data: null })],
  ])('names the line number of %s, which is not an event record', async (_what, line) => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, [JSON.stringify(record(1)), '', line].join('\n'));
    await expect(readJsonlRecords(file)).rejects.toThrow(`${file}:3: not an event record`);
  });

  it('reads an empty file as no records', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '');
    expect(await readJsonlRecords(file)).toEqual([]);
  });
});
