import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readDataDirLog } from '../../src/durable/data-dir-log.js';
import { recoverDataDir } from '../../src/durable/recovery.js';
import { replay } from '../../src/log/replay.js';
import { TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'anteroom-crash-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const capacity = 3;
/** Runs over kill points; each run starts the server twice. Raise it locally with ANTEROOM_CRASH_RUNS. */
const runs = Number(process.env.ANTEROOM_CRASH_RUNS ?? 4);

/** A real process; `kill` sends SIGKILL to it alone. */
function child(args: string[], onLine?: (line: string) => void) {
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk) => {
    stdout += chunk;
    onLine?.(stdout);
  });
  proc.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, exited, stderr: () => stderr, kill: () => proc.kill('SIGKILL') };
}

/** The server on `dir`, resolving with its URL once it printed its ready line. */
async function serve(dir: string, snapshotRecords: number, extra: string[] = []) {
  let resolveUrl: (url: string) => void;
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  const server = child(
    [join(root, 'bin', 'anteroom.js'), '--port', '0', '--data-dir', dir, '--capacity', String(capacity), '--heartbeat-timeout', '600000', '--resume-window', '120000', '--snapshot-records', String(snapshotRecords), '--log-level', 'warn', ...extra],
    (out) => {
      const match = /ws:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (match) resolveUrl(match[0]);
    },
  );
  const ready = await Promise.race([url, server.exited.then((code) => Promise.reject(new Error(`server exited ${code}: ${server.stderr()}`)))]);
  return { ...server, url: ready };
}

interface Expectation {
  /** Sessions a client was told it holds a place or seat for, in the order it was first told, not given up. */
  kept: string[];
  /** Of those, the ones told they hold a seat. */
  seated: Set<string>;
}

/** What the visitors' record says must survive: every acknowledged place or seat the visitor did not give up. */
function expectationOf(recordFile: string): Expectation {
  const events = readFileSync(recordFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { ev: string; session?: string; status?: string });
  const order: string[] = [];
  const seated = new Set<string>();
  const gone = new Set<string>();
  for (const event of events) {
    if (event.ev === 'ack' && !order.includes(event.session!)) order.push(event.session!);
    if (event.ev === 'ack' && event.status === 'active') seated.add(event.session!);
    if (event.ev === 'leave') gone.add(event.session!);
  }
  return { kept: order.filter((session) => !gone.has(session)), seated: new Set([...seated].filter((s) => !gone.has(s))) };
}

/** `snapshotRecords`: a snapshot (and deletion of the segments it covers) that often, taken under churn. */
async function crashAndRecover(killAfterMs: number, seed: number, snapshotRecords: number): Promise<void> {
  const dir = mkdtempSync(join(scratch, 'run-'));
  const recordFile = join(dir, '..', `${seed}-${killAfterMs}.jsonl`);
  const first = await serve(dir, snapshotRecords);
  const visitors = child(['--import', 'tsx', join(root, 'test', 'durable', 'churn-visitors.ts'), first.url, recordFile, String(seed)]);
  try {
    await waitFor('the visitors to be placed', () => readFileOr(recordFile).includes('"ack"'), 15_000);
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    first.kill(); // SIGKILL: no shutdown, no flush
    await first.exited;
  } finally {
    visitors.kill();
    first.kill();
  }
  await visitors.exited;
  const expected = expectationOf(recordFile);

  const second = await serve(dir, snapshotRecords);
  try {
    // The restart is recorded (every place held) before its first answer; wait until it is on disk.
    await waitFor('the restart to be in the log', async () => (await readDataDirLog(dir)).records.some((r) => r.kind === 'config' && r.data.type === 'holdForRestart'), 10_000);
    const recovered = await recoverDataDir(dir);
    const state = recovered.rooms.get('main')!.state;
    const line = [...state.queue.entries()].map(([, waiter]) => waiter.session);
    const seats = new Set([...state.seats.values()].map((seat) => seat.session));
    expect(state.seats.size).toBeLessThanOrEqual(capacity);
    if (process.env.ANTEROOM_CRASH_DEBUG) console.log({ killAfterMs, snapshotRecords, snapshot: recovered.snapshot?.name, kept: expected.kept.length, seated: expected.seated.size, line: line.length, seats: seats.size, lastSeq: recovered.lastSeq, torn: recovered.torn });
    const missing = expected.kept.filter((session) => !seats.has(session) && !line.includes(session));
    expect(missing, `acknowledged places lost (kill after ${killAfterMs} ms, seed ${seed})`).toEqual([]);
    for (const session of expected.seated) expect(seats.has(session), `seat of ${session}`).toBe(true);
    const inLine = expected.kept.filter((session) => line.includes(session));
    expect(line.filter((session) => inLine.includes(session))).toEqual(inLine);
    expect(state.queue.liveCount, 'every place is held after the restart').toBe(0);

    const log = await readDataDirLog(dir);
    const replayed = replay(log.records, log.seed === null ? {} : { seed: log.seed });
    expect(replayed.ok, replayed.ok ? '' : replayed.message).toBe(true);

    // A visitor whose place survived gets it back from the restarted server by resuming.
    const back = expected.kept.find((session) => line.includes(session));
    if (back !== undefined) await expectResumed(second.url, back, recordFile);
  } finally {
    second.kill();
    await second.exited;
  }
}

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function expectResumed(url: string, session: string, recordFile: string): Promise<void> {
  const token = tokenOf(session, recordFile);
  const client = await TestClient.placed(`${url}/?resume=${encodeURIComponent(token)}`);
  expect(client.lastStatus).toMatchObject({ status: 'queued', session });
  client.terminate();
}

/** The resume token the visitors were given for `session`. */
function tokenOf(session: string, recordFile: string): string {
  const ack = readFileSync(recordFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line)).find((event) => event.ev === 'ack' && event.session === session);
  return ack.token as string;
}

describe('crash recovery with SIGKILL', () => {
  it('keeps every acknowledged place, in order, with at most capacity seated, and the kept log replays, whatever the kill point', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 50, max: 1200 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        // Snapshots every few dozen records, or none before the kill: recovery from snapshot + tail, and from the log.
        fc.constantFrom(40, 100_000),
        (killAfterMs, seed, snapshotRecords) => crashAndRecover(killAfterMs, seed, snapshotRecords),
      ),
      { numRuns: runs, endOnFailure: true },
    );
  }, 120_000);

  it('keeps every admin write it answered, even when killed right after the answer', async () => {
    const dir = mkdtempSync(join(scratch, 'admin-'));
    const adminFlags = ['--admin-token', 'crash-admin-token'];
    const admin = (url: string, method: string, path: string, body?: unknown) =>
      fetch(`${url.replace('ws://', 'http://')}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: 'Bearer crash-admin-token' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const first = await serve(dir, 100_000, adminFlags);
    try {
      expect((await admin(first.url, 'PUT', '/api/rooms/encore', { capacity: 2 })).status).toBe(201);
      expect((await admin(first.url, 'POST', '/api/rooms/main', { capacity: 7, notice: 'Back soon' })).status).toBe(200);
      expect((await admin(first.url, 'DELETE', '/api/rooms/encore')).status).toBe(200);
      expect((await admin(first.url, 'PUT', '/api/rooms/late', { capacity: 4 })).status).toBe(201);
    } finally {
      first.kill(); // SIGKILL as soon as the last answer arrived
      await first.exited;
    }
    const recovered = await recoverDataDir(dir);
    expect(recovered.rooms.get('main')!.state).toMatchObject({ capacity: 7, notice: 'Back soon' });
    expect(recovered.rooms.has('late')).toBe(true);
    expect(recovered.removed).toContain('encore');
  });
});
