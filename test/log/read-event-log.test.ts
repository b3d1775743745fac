import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { EventLog } from '../../src/log/event-log.js';
import { logFormatVersion, type EventRecord } from '../../src/log/event-record.js';
import { JsonlSink } from '../../src/log/jsonl-sink.js';
import { readEventLog } from '../../src/log/read-event-log.js';
import { replay } from '../../src/log/replay.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anteroom-read-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function record(seq: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return { v: logFormatVersion, seq, at: 1_700_000_000_000 + seq, room: 'main', kind: 'connected', conn: `c${seq}`, data: { session: `s${seq}` }, ...overrides } as EventRecord;
}

const readRecords = async (file: string) => (await readEventLog(file)).records;

describe('readEventLog', () => {
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
    expect(await readRecords(file)).toEqual(appended);
  });

  it('skips blank lines, including a trailing one and CRLF endings', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(record(1))}\r\n\r\n   \n${JSON.stringify(record(2))}\n\n`);
    expect(await readRecords(file)).toEqual([record(1), record(2)]);
  });

  it('names the line number of a line that is not JSON', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, [JSON.stringify(record(1)), JSON.stringify(record(2)), '{"seq": 3, "at":', JSON.stringify(record(4))].join('\n'));
    await expect(readEventLog(file)).rejects.toThrow(`${file}:3: not JSON: not an anteroom event log`);
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
    fs.writeFileSync(file, [JSON.stringify(record(1)), '', line, JSON.stringify(record(4))].join('\n'));
    await expect(readEventLog(file)).rejects.toThrow(`${file}:3: not an event record: not an anteroom event log`);
  });

  it('reads an empty file as no records', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '');
    expect(await readRecords(file)).toEqual([]);
  });

  it('cuts off a torn last line (a crash in the middle of a write) and reports it', async () => {
    const file = path.join(dir, 'events.jsonl');
    const whole = JSON.stringify(record(3));
    fs.writeFileSync(file, [JSON.stringify(record(1)), JSON.stringify(record(2)), whole.slice(0, whole.length / 2)].join('\n'));
    expect(await readEventLog(file)).toEqual({ records: [record(1), record(2)], torn: { line: 3, text: whole.slice(0, whole.length / 2) } });
  });

  it('refuses a file that holds no record at all, even on one line', async () => {
    const file = path.join(dir, 'notes.txt');
    fs.writeFileSync(file, 'shopping list: eggs\n');
    await expect(readEventLog(file)).rejects.toThrow(`${file}:1: not JSON: not an anteroom event log`);
  });

  it('refuses a record written in a newer format than it reads', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, [JSON.stringify(record(1)), JSON.stringify({ ...record(2), v: 99 }), JSON.stringify(record(3))].join('\n'));
    await expect(readEventLog(file)).rejects.toThrow(`${file}:2: written in log format 99 by a newer release`);
  });
});

describe('logs of format 1 (records without v, decisions without due times)', () => {
  /** The same log as format 1 wrote it: no `v`, no due times or seat times in decisions. */
  function asFormat1(records: readonly EventRecord[]): object[] {
    return records.map(({ v: _v, ...rest }) => {
      if (rest.kind === 'held') {
        const { expiresAt: _expiresAt, ...data } = rest.data;
        return { ...rest, data };
      }
      if (rest.kind === 'admitted') {
        const { at: _at, ttlUntil: _ttlUntil, ...data } = rest.data;
        return { ...rest, data };
      }
      return rest;
    });
  }

  it('reads into the current format, with the due times the room settings imply, and replays', async () => {
    const room = createSimulatedRoom({ capacity: 1, resumeWindowMs: 10_000, sessionTtlMs: 60_000 });
    room.runtime.connect('a', 'sa');
    room.runtime.connect('b', 'sb');
    room.runtime.connect('c', 'sc');
    room.advance(1000);
    room.runtime.closed('b', 1006);
    room.advance(10_000);
    room.runtime.message('a', { type: 'leave' });
    room.runtime.stop();
    expect(room.records.some((r) => r.kind === 'held')).toBe(true);
    expect(room.records.some((r) => r.kind === 'released' && r.data.reason === 'hold_expired')).toBe(true);

    const file = path.join(dir, 'format1.jsonl');
    fs.writeFileSync(file, asFormat1(room.records).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { records } = await readEventLog(file);
    expect(records).toEqual(JSON.parse(JSON.stringify(room.records)));
    expect(replay(records)).toMatchObject({ ok: true });
  });
});
