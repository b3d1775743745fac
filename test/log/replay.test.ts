import { describe, expect, it } from 'vitest';
import { isInputRecord, type EventRecord } from '../../src/log/event-record.js';
import { replay, type DecisionView } from '../../src/log/replay.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

/**
 * A recorded incident in a room of 2 seats: joins, pings and pongs, a heartbeat eviction of a seat and of a
 * queued session, a drop, a resume, a capacity change, a pause and a hold that expires.
 */
function recordScenario(): EventRecord[] {
  const room = createSimulatedRoom({ capacity: 2, heartbeatTimeoutMs: 3000, queuePingMs: 4000, resumeWindowMs: 10_000 });
  const { runtime } = room;
  /** Advances one second at a time; `pinging` send a ping message, `ponging` answer ping frames. */
  const tick = (seconds: number, pinging: string[], ponging: string[]) => {
    for (let i = 0; i < seconds; i++) {
      room.advance(1000);
      for (const conn of pinging) runtime.message(conn, { type: 'ping' });
      for (const conn of ponging) runtime.pong(conn);
    }
  };

  for (const n of [1, 2, 3, 4, 5]) runtime.connect(`c${n}`, `s${n}`);
  tick(2, ['c1', 'c2'], ['c3', 'c4', 'c5']);
  // c2 falls silent: evicted at 5 s, and c3 takes its seat.
  tick(3, ['c1'], ['c3', 'c4', 'c5']);
  runtime.closed('c2', 4000);
  // c4 vanishes (no close frame): its place is held; it comes back on c6 and resumes.
  runtime.closed('c4', 1006);
  tick(1, ['c1', 'c3'], ['c5']);
  runtime.connect('c6', 's6');
  runtime.message('c6', { type: 'resume', session: 's4' });
  runtime.message('c3', { type: 'invalid', code: 'bad_json' });
  tick(1, ['c1', 'c3'], ['c5', 'c6']);
  runtime.configure({ type: 'setCapacity', capacity: 3 });
  runtime.configure({ type: 'pause' });
  runtime.connect('c7', 's7');
  runtime.message('c1', { type: 'leave' });
  runtime.closed('c1', 1000);
  tick(1, ['c3', 'c6'], ['c5', 'c7']);
  runtime.configure({ type: 'open' });
  // c8 goes away while queued and never comes back: its hold expires.
  runtime.connect('c8', 's8');
  runtime.closed('c8', 1001);
  // c7 stops answering ping frames: dropped from the line after two probes.
  tick(12, ['c3', 'c5', 'c6'], []);
  runtime.closed('c7', 4000);
  runtime.stop();
  return room.records;
}

const scenario = recordScenario();

function viewOf(record: EventRecord): DecisionView {
  return { room: record.room, kind: record.kind, conn: record.conn, data: record.data };
}

function indexOf(records: EventRecord[], predicate: (record: EventRecord) => boolean): number {
  const index = records.findIndex(predicate);
  expect(index, 'the scenario lacks the record this test tampers with').toBeGreaterThanOrEqual(0);
  return index;
}

describe('replay of a recorded scenario', () => {
  it('covers what it claims to', () => {
    const has = (kind: string, data: Record<string, unknown> = {}, conn?: string | null) =>
      scenario.some((r) => r.kind === kind && (conn === undefined || r.conn === conn) && Object.entries(data).every(([k, v]) => (r.data as Record<string, unknown>)[k] === v));
    expect(has('evicted', { from: 'seat', reason: 'heartbeat_timeout' }, 'c2')).toBe(true);
    expect(has('evicted', { from: 'queue', reason: 'heartbeat_timeout' }, 'c7')).toBe(true);
    expect(has('admitted', { session: 's3' }, 'c3')).toBe(true);
    expect(has('held', { session: 's4' }, 'c4')).toBe(true);
    expect(has('resumed', { session: 's4', replacedSession: 's6' }, 'c6')).toBe(true);
    expect(has('admitted', { session: 's4' }, 'c6')).toBe(true);
    expect(has('capacityChanged', { capacity: 3 })).toBe(true);
    expect(has('statusChanged', { status: 'paused' })).toBe(true);
    expect(has('statusChanged', { status: 'open' })).toBe(true);
    expect(has('released', { from: 'seat', reason: 'left' }, 'c1')).toBe(true);
    expect(has('released', { session: 's8', reason: 'hold_expired' }, null)).toBe(true);
    expect(has('timer', {}, null)).toBe(true);
    expect(has('pong')).toBe(true);
  });

  it('reproduces every recorded decision, counting inputs and decisions', () => {
    const inputs = scenario.filter(isInputRecord).length;
    expect(replay(scenario)).toEqual({ ok: true, inputs, decisions: scenario.length - inputs });
    expect(inputs).toBeGreaterThan(50);
    expect(scenario.length - inputs).toBeGreaterThan(15);
  });

  it('reproduces the same records after a round trip through JSON', () => {
    const roundTripped = scenario.map((record) => JSON.parse(JSON.stringify(record)) as EventRecord);
    const inputs = scenario.filter(isInputRecord).length;
    expect(replay(roundTripped)).toEqual({ ok: true, inputs, decisions: scenario.length - inputs });
  });
});

describe('replay of a tampered record', () => {
  it('reports a changed position at that record, with what was recorded and what replay decided', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'queued' && r.data.position === 3);
    const tampered = records[index] as Extract<EventRecord, { kind: 'queued' }>;
    const original = viewOf(scenario[index]!);
    tampered.data.position = 2;
    const result = replay(records);
    expect(result).toMatchObject({ ok: false, record: records[index], expected: viewOf(records[index]!), actual: original });
    expect(result.ok === false && result.message).toContain(`seq ${records[index]!.seq}`);
    // The headline says what differs, not only which kind of decision it was.
    expect(result.ok === false && result.message).toBe(`seq ${records[index]!.seq}: queued differs in position: recorded 2, replay 3`);
  });

  it('reports a decision attributed to another connection', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'admitted' && r.conn === 'c3');
    const original = viewOf(scenario[index]!);
    records[index]!.conn = 'c4';
    const result = replay(records);
    expect(result).toMatchObject({ ok: false, record: records[index], expected: viewOf(records[index]!), actual: original });
    expect(result.ok === false && result.message).toContain('admitted differs in conn: recorded "c4", replay "c3"');
  });

  it('reports a deleted decision as one replay made that the record does not have', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'resumed');
    const [deleted] = records.splice(index, 1);
    const result = replay(records);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.actual).toEqual(viewOf(deleted!));
    expect(result.record).toEqual(records[index]);
  });

  it('reports an inserted decision that replay does not make, when nothing else was decided', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'queued' && r.conn === 'c5');
    const extra = { ...records[index]!, seq: records[index]!.seq + 0.5, kind: 'admitted', data: { session: 's5', at: records[index]!.at, ttlUntil: null } } as EventRecord;
    records.splice(index + 1, 0, extra);
    const result = replay(records);
    expect(result).toMatchObject({ ok: false, record: extra, expected: viewOf(extra), actual: null });
  });

  it('reports an inserted decision that replay does not make, ahead of the one it does', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'admitted' && r.conn === 'c3');
    const real = viewOf(records[index]!);
    const extra = { ...records[index]!, seq: records[index]!.seq - 0.5, conn: 'c5', data: { ...records[index]!.data, session: 's5' } } as EventRecord;
    records.splice(index, 0, extra);
    expect(replay(records)).toMatchObject({ ok: false, record: extra, expected: viewOf(extra), actual: real });
  });

  it('reports a timer that fires in the record but is not armed in replay', () => {
    const records = structuredClone(scenario);
    // Right after c6's placement was decided, before the next input.
    const index = indexOf(records, (r) => r.kind === 'queued' && r.conn === 'c6');
    const stray: EventRecord = { v: 2, seq: records[index]!.seq + 0.5, at: 0, room: 'main', kind: 'timer', conn: 'c6', data: { timer: 99 } };
    records.splice(index + 1, 0, stray);
    const result = replay(records);
    expect(result).toMatchObject({ ok: false, record: stray, expected: null, actual: null });
    expect(result.ok === false && result.message).toMatch(/timer 99 of c6 .*not armed/);
  });

  it('reports a timer that fires twice', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'timer' && r.conn === 'c2');
    const again: EventRecord = { ...records[index]!, seq: records[index]!.seq + 0.5 };
    // After the decisions the first firing led to, so the record stays consistent up to the second firing.
    let at = index + 1;
    while (at < records.length && !isInputRecord(records[at]!)) at++;
    records.splice(at, 0, again);
    expect(replay(records)).toMatchObject({ ok: false, record: again, expected: null, actual: null });
  });

  it('reports an input for a room that was never opened', () => {
    const records = structuredClone(scenario);
    const index = indexOf(records, (r) => r.kind === 'connected' && r.conn === 'c7');
    records[index]!.room = 'elsewhere';
    const result = replay(records);
    expect(result).toMatchObject({ ok: false, record: records[index], expected: null, actual: null });
    expect(result.ok === false && result.message).toContain('"elsewhere" was never opened');
  });
});
