import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../support/capture-output.js';
import { replayCommand } from '../../src/cli/replay-command.js';
import { failureReport } from '../../src/cli/failure-report.js';
import type { EventRecord } from '../../src/log/event-record.js';
import { whatIfCapacity } from '../../src/log/replay-whatif.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

type SimulatedRoom = ReturnType<typeof createSimulatedRoom>;

/** Drives a simulated room second by second; every connection still open pings once a second. */
function driver(room: SimulatedRoom) {
  const startedAt = room.clock.now();
  const pinging = new Set<string>();
  return {
    connect(conn: string, session: string) {
      room.runtime.connect(conn, session);
      pinging.add(conn);
    },
    close(conn: string, code: number) {
      pinging.delete(conn);
      room.runtime.closed(conn, code);
    },
    silence(conn: string) {
      pinging.delete(conn);
    },
    runTo(seconds: number, eachSecond: () => void = () => {}) {
      while (room.clock.now() - startedAt < seconds * 1000) {
        room.advance(1000);
        for (const conn of pinging) room.runtime.message(conn, { type: 'ping' });
        eachSecond();
      }
    },
  };
}

/**
 * An incident on a two-seat room: s1, s2 take the seats at 0 s and s3, s4, s5 queue; s1 leaves at 5 s (s3
 * admitted); s5's connection goes away at 6 s and is resumed on a fresh connection c6 at 7 s; s2 goes silent
 * after 9 s and is evicted at 12 s (s4 admitted); s3 leaves at 15 s (s5 admitted on c6); s7 joins at 16 s and
 * leaves the line at 18 s. Also returns the positions the runtime gave s5's place, second by second.
 */
function recordIncident() {
  const room = createSimulatedRoom({ capacity: 2 });
  const run = driver(room);
  const s5Positions: number[] = [];
  const watchS5 = () => {
    const position = room.runtime.positionOf('c5') || room.runtime.positionOf('c6');
    if (position > 0 && s5Positions.at(-1) !== position) s5Positions.push(position);
  };
  for (const n of [1, 2, 3, 4, 5]) run.connect(`c${n}`, `s${n}`);
  watchS5();
  run.runTo(5, watchS5);
  run.close('c1', 1000);
  watchS5();
  run.runTo(6, watchS5);
  run.close('c5', 1001);
  run.runTo(7, watchS5);
  run.connect('c6', 's6');
  room.runtime.message('c6', { type: 'resume', session: 's5' });
  watchS5();
  run.runTo(9, watchS5);
  run.silence('c2');
  run.runTo(15, watchS5);
  run.close('c3', 1000);
  run.runTo(16, watchS5);
  run.connect('c7', 's7');
  run.runTo(18, watchS5);
  run.silence('c7');
  room.runtime.message('c7', { type: 'leave' });
  run.runTo(20);
  room.runtime.stop();
  return { records: room.records, s5Positions };
}

/** A busier hour in miniature: 40 visitors on three seats, with random stays, walk-outs and reloads. */
function recordBusyRoom(seed: number): EventRecord[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const room = createSimulatedRoom({ capacity: 3 });
  const run = driver(room);
  const plans = new Map<string, { at: number; action: 'leave' | 'reload' | 'walkout' }>();
  let second = 0;
  let visitors = 0;
  let fresh = 0;
  while (second < 90) {
    second += 1;
    run.runTo(second);
    if (visitors < 40 && random() < 0.6) {
      const conn = `v${++visitors}`;
      run.connect(conn, `s${visitors}`);
      const roll = random();
      plans.set(conn, { at: second + 2 + Math.floor(random() * 15), action: roll < 0.15 ? 'walkout' : roll < 0.25 ? 'reload' : 'leave' });
    }
    for (const [conn, plan] of [...plans]) {
      if (plan.at !== second) continue;
      plans.delete(conn);
      const seated = room.runtime.isActive(conn);
      if (plan.action === 'leave' && seated) run.close(conn, 1000);
      else if (plan.action === 'walkout' && !seated) run.close(conn, 1000);
      else if (plan.action === 'reload' && !seated) {
        const session = room.runtime.connectionState(conn)?.context.session;
        run.close(conn, 1001);
        const again = `r${++fresh}`;
        run.connect(again, `fresh${fresh}`);
        room.runtime.message(again, { type: 'resume', session: String(session) });
        plans.set(again, { at: second + 5, action: 'leave' });
      } else plans.set(conn, { ...plan, at: second + 3 });
    }
  }
  room.runtime.stop();
  return room.records;
}

const scratch = mkdtempSync(join(tmpdir(), 'anteroom-replay-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function logFile(records: readonly EventRecord[]): string {
  const file = join(scratch, `log-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
  return file;
}

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const { out, text } = captureOutput();
  const code = await replayCommand(argv, out);
  return { code, out: text() };
}

const incident = recordIncident();
const incidentLog = logFile(incident.records);

describe('anteroom replay', () => {
  it('checks the whole log by default', async () => {
    const { code, out } = await run([incidentLog]);
    expect(code).toBe(0);
    expect(out).toMatch(/^reproduced \d+ decisions from \d+ inputs/);
  });

  it('rejects a flag it does not know and a missing file name', async () => {
    expect((await run([incidentLog, '--explian', 's5'])).code).toBe(2);
    expect((await run(['--capacity', '3'])).code).toBe(2);
    expect((await run([incidentLog, '--capacity', 'three'])).code).toBe(2);
  });
});

describe('anteroom replay on a damaged or foreign file', () => {
  it('replays the intact records of a log whose last line a crash cut off, and says so', async () => {
    const lines = incident.records.map((record) => JSON.stringify(record));
    const last = lines.pop()!;
    const file = join(scratch, 'torn.jsonl');
    writeFileSync(file, [...lines, last.slice(0, 20)].join('\n'));
    const { code, out } = await run([file]);
    expect(code).toBe(0);
    expect(out).toContain(`line ${lines.length + 1}, the last, is cut off (a crash in the middle of a write): left out; replaying the ${lines.length} records before it\n`);
    expect(out).toMatch(/reproduced \d+ decisions/);
  });

  it('refuses a file that is not an event log, or cannot be read, in one line with exit code 2', async () => {
    const text = join(scratch, 'readme.txt');
    writeFileSync(text, 'This is not a log.\nNor is this.\n');
    const notALog = await run([text]).catch((error: unknown) => error);
    expect(failureReport(notALog)).toEqual({ text: `anteroom: ${text}:1: not JSON: not an anteroom event log\n`, exitCode: 2 });
    const missing = await run([join(scratch, 'nowhere.jsonl')]).catch((error: unknown) => error);
    expect(failureReport(missing)).toEqual({ text: `anteroom: ${join(scratch, 'nowhere.jsonl')}: no such file or directory\n`, exitCode: 2 });
  });
});

describe('anteroom replay flags', () => {
  it.each([
    [['--bogus'], 'unknown flag --bogus'],
    [['--bogus', 'x'], 'unknown flag --bogus'],
    [['--bogus=1'], 'unknown flag --bogus'],
    [['--explain'], '--explain needs a value'],
  ])('%j says %s', async (flags, message) => {
    const { code, out } = await run([incidentLog, ...flags]);
    expect(code).toBe(2);
    expect(out.split('\n')[0]).toBe(`anteroom replay: ${message}`);
  });
});

describe('anteroom replay --explain', () => {
  it('tells a resumed session\'s story: every position, the hold, the resume and why it was admitted', async () => {
    const { code, out } = await run([incidentLog, '--explain', 's5']);
    expect(code).toBe(0);
    const story = out.split('\n');
    const order = [
      'connected on conn c5',
      'joined the line at position 3 of 3',
      'position 2 of 2: session s3 was admitted ahead',
      'conn c5 closed with 1001',
      'place 2 held for 30000 ms',
      'connected on conn c6 as fresh session s6',
      'resumed on conn c6 at position 2 of 2',
      'position 1 of 1: session s4 was admitted ahead',
      'admitted on conn c6: its seat was freed when session s3 was released (left)',
    ];
    const at = order.map((text) => story.findIndex((line) => line.includes(text)));
    expect(at.every((index) => index > 0), `missing lines in:\n${out}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(out).toContain('waited 15.0 s in line, still seated at the end of the log');
  });

  it('derives the same positions the room gave the place', async () => {
    const { out } = await run([incidentLog, '--explain', 's5']);
    const told = [...out.matchAll(/(?:position|at position) (\d+) of/g)].map((match) => Number(match[1]));
    const distinct = told.filter((position, index) => told[index - 1] !== position);
    expect(distinct).toEqual(incident.s5Positions);
  });

  it('says why a silent session was evicted and when a waiter left', async () => {
    const silent = await run([incidentLog, '--explain', 's2']);
    expect(silent.out).toContain('admitted on conn c2: a seat was free when it arrived');
    expect(silent.out).toMatch(/evicted from the seat: heartbeat_timeout, no message for 3000 ms \(the last, seq \d+, came 3\.0 s before\)/);
    expect(silent.out).toContain('held a seat for 12.0 s');
    const walker = await run([incidentLog, '--explain', 's7']);
    expect(walker.out).toContain('released from the line: it sent leave');
    expect(walker.out).toContain('never admitted');
  });

  it('reports an unknown or ambiguous session', async () => {
    expect(await run([incidentLog, '--explain', 'nobody'])).toEqual({ code: 1, out: 'no session "nobody" in the log\n' });
    const ambiguous = await run([incidentLog, '--explain', 's']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.out).toContain('ambiguous');
  });
});

describe('anteroom replay --until', () => {
  const seqOf = (kind: string, session: string) => incident.records.find((r) => r.kind === kind && (r.data as { session?: string }).session === session)!.seq;

  it('prints the rooms as they stood, with held places in the line', async () => {
    const { code, out } = await run([incidentLog, '--until', String(seqOf('held', 's5'))]);
    expect(code).toBe(0);
    expect(out).toContain('closed 1001 on conn c5');
    expect(out).toContain('room "main": open, capacity 2, 2 active, 2 in line (1 held for resume)');
    expect(out).toMatch(/conn c2 {2}session s2, seated 6\.0 s/);
    expect(out).toMatch(/conn c3 {2}session s3, seated 1\.0 s/);
    expect(out).toMatch(/ 1 {2}conn c4 {2}session s4\n/);
    expect(out).toMatch(/ 2 {2}\(held\) {2}session s5\n/);
  });

  it('shows the resumed place on its new connection once the resume is applied', async () => {
    const { out } = await run([incidentLog, '--until', String(seqOf('resumed', 's5'))]);
    expect(out).toContain('room "main": open, capacity 2, 2 active, 2 in line\n');
    expect(out).toMatch(/ 2 {2}conn c6 {2}session s5\n/);
  });
});

describe('anteroom replay --capacity (what-if)', () => {
  it('reproduces the recorded waits at the recorded capacity', () => {
    const [report] = whatIfCapacity(incident.records, 2);
    // Everyone placed counts: s7 left after 2 s without a seat, and that wait is among the six.
    expect(report!.recorded).toEqual({ people: 6, admitted: 5, leftWaiting: 1, stillWaiting: 0, p50Ms: 2000, p90Ms: 15_000, maxMs: 15_000 });
    expect(report!.whatIf).toEqual(report!.recorded);
  });

  it('models fewer and more seats from arrivals, leaves and seat durations', () => {
    // One seat: s1 keeps it 5 s, s2 12 s, s3 10 s; s4 then sits past the end of the log, so the one behind it
    // is still waiting when the log ends (counted for as long as it had waited), and s7 gives up at 18 s.
    expect(whatIfCapacity(incident.records, 1)[0]!.whatIf).toEqual({ people: 6, admitted: 4, leftWaiting: 1, stillWaiting: 1, p50Ms: 5000, p90Ms: 27_000, maxMs: 27_000 });
    // Five seats: everyone, s7 included, walks straight in.
    expect(whatIfCapacity(incident.records, 5)[0]!.whatIf).toEqual({ people: 6, admitted: 6, leftWaiting: 0, stillWaiting: 0, p50Ms: 0, p90Ms: 0, maxMs: 0 });
  });

  it('matches the record at its own capacity on a busier log, and more seats never wait longer', () => {
    for (const seed of [1, 7, 42]) {
      const records = recordBusyRoom(seed);
      const [same] = whatIfCapacity(records, 3);
      expect(same!.whatIf, `seed ${seed}`).toEqual(same!.recorded);
      expect(same!.recorded.p90Ms, `seed ${seed} has a line`).toBeGreaterThan(0);
      const [more] = whatIfCapacity(records, 6);
      expect(more!.whatIf.p90Ms!).toBeLessThanOrEqual(same!.recorded.p90Ms!);
    }
  });

  it('prints p50 and p90 beside the recorded ones', async () => {
    const { code, out } = await run([incidentLog, '--capacity', '1']);
    expect(code).toBe(0);
    expect(out).toContain('recorded (capacity 2)  what-if (capacity 1)');
    expect(out).toMatch(/wait p50 +2\.0 s +5\.0 s\n/);
    expect(out).toMatch(/still waiting +0 +1\n/);
    expect(out).toContain('still waiting, to the end of the log, a lower bound');
    expect(out).toMatch(/wait p90 +15\.0 s +27\.0 s\n/);
    expect(out).toContain('1 of the what-if admissions come after the log ends');
    expect((await run([incidentLog, '--capacity', '1', '--room', 'lobby'])).code).toBe(1);
  });
});

describe('anteroom replay --explain of a kicked session', () => {
  it('says an operator removed it, with the 4008 close, not a policy close', async () => {
    const room = createSimulatedRoom({ capacity: 1 });
    room.runtime.connect('k1', 'kicked-one');
    room.runtime.configure({ type: 'kick', session: 'kicked-one' });
    room.runtime.stop();
    const { code, out } = await run([logFile(room.records), '--explain', 'kicked-one']);
    expect(code).toBe(0);
    expect(out).toContain('evicted from the seat: kicked, an operator kicked it (close 4008)');
    expect(out).not.toContain('1008');
  });
});

describe('anteroom replay --capacity with a resume token in the upgrade URL', () => {
  it('counts a visitor who came back with its token once, with the wait it had, as the record did', () => {
    const room = createSimulatedRoom({ capacity: 1, resumeWindowMs: 10_000 });
    room.runtime.connect('a', 'sa');
    room.runtime.connect('b', 'sb');
    room.advance(1000);
    room.runtime.closed('b', 1006);
    room.advance(200);
    room.runtime.connect('b2', 'sb2', 'sb');
    room.advance(1000);
    room.runtime.message('a', { type: 'leave' });
    room.advance(500);
    room.runtime.stop();
    const [report] = whatIfCapacity(room.records, 1);
    expect(report!.recorded).toEqual({ people: 2, admitted: 2, leftWaiting: 0, stillWaiting: 0, p50Ms: 0, p90Ms: 2200, maxMs: 2200 });
    expect(report!.whatIf).toEqual(report!.recorded);
  });
});

describe('anteroom replay on records that are not what their kind says', () => {
  const opened = (seq: number, data: unknown) => JSON.stringify({ v: 2, seq, at: 0, room: 'main', kind: 'room.opened', conn: null, data });

  it('refuses, in one line with exit code 2, a record whose data does not fit its kind', async () => {
    for (const [what, line] of [
      ['settings missing', opened(1, {})],
      ['a fault reason the server has no close for', JSON.stringify({ v: 2, seq: 2, at: 0, room: 'main', kind: 'fault', conn: 'a', data: { reason: 'bogus' } })],
      ['a numeric session', JSON.stringify({ v: 2, seq: 2, at: 0, room: 'main', kind: 'connected', conn: 'a', data: { session: 7 } })],
      ['an operator command of no known type', JSON.stringify({ v: 2, seq: 2, at: 0, room: 'main', kind: 'config', conn: null, data: { type: 'explode' } })],
    ] as const) {
      const file = join(scratch, `shape-${what.replaceAll(' ', '-')}.jsonl`);
      const valid = JSON.stringify(incident.records[0]);
      writeFileSync(file, [valid, line, valid].join('\n') + '\n');
      const error = await run([file, '--until', '99']).catch((caught: unknown) => caught);
      const report = failureReport(error);
      expect(report.exitCode, what).toBe(2);
      expect(report.text, what).toMatch(/^anteroom: .*:2: a "[\w.]+" record whose data is not what that kind holds\n$/);
    }
  });

  it('says where an edited log contradicts itself, instead of failing inside the fold', async () => {
    const records = incident.records.map((record) => JSON.parse(JSON.stringify(record)) as EventRecord);
    const index = records.findIndex((record) => record.kind === 'held');
    (records[index] as Extract<EventRecord, { kind: 'held' }>).conn = 'nobody';
    const file = logFile(records);
    const until = await run([file, '--until', String(records.at(-1)!.seq)]);
    expect(until.code).toBe(1);
    expect(until.out).toMatch(/^divergence before seq \d+: seq \d+: held differs in conn/);
    const explained = await run([file, '--explain', 's5']);
    expect(explained.code).toBe(1);
    expect(explained.out).toMatch(/^the decision at seq \d+ does not fit the room as its earlier decisions left it/);
  });
});
