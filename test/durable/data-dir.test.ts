import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdmissionState } from '../../machines/admission/admission-state.js';
import { snapshotOfAdmission } from '../../machines/admission/admission-snapshot.js';
import { settle } from '../../machines/admission/step.js';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { acquireDataDirLock } from '../../src/durable/data-dir-lock.js';
import { loadOrCreateSecrets } from '../../src/durable/data-dir-secrets.js';
import { GroupCommitSink } from '../../src/durable/group-commit-sink.js';
import { listSegments, segmentName } from '../../src/durable/log-segments.js';
import { recoverDataDir } from '../../src/durable/recovery.js';
import { snapshotName, writeSnapshot } from '../../src/durable/snapshot-file.js';
import { EventLog } from '../../src/log/event-log.js';
import { waitFor } from '../support/wait-for.js';

const scratch = mkdtempSync(join(tmpdir(), 'anteroom-datadir-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const freshDir = () => mkdtempSync(join(scratch, 'dir-'));
const settings = { name: 'main', ...defaultRoomSettings, capacity: 1 };

/** A log of one room on `dir`: opened, then `joins` people join (one seated, the rest in line). */
async function writeLog(dir: string, joins: number): Promise<{ log: EventLog; sink: GroupCommitSink }> {
  const sink = new GroupCommitSink(dir);
  const log = new EventLog({ sink });
  log.append('main', 'room.opened', null, { settings }, 0);
  const state = createAdmissionState(settings);
  for (let i = 0; i < joins; i++) {
    log.append('main', 'connected', `c${i}`, { session: `s${i}` }, i);
    for (const decision of settle(state, { type: 'join', conn: `c${i}`, session: `s${i}` }, i)) log.appendDecision('main', decision, i);
  }
  await sink.flushed();
  return { log, sink };
}

describe('group commit', () => {
  it('writes a burst of records with one fsync and runs afterCommit callbacks in order once they are durable', async () => {
    const dir = freshDir();
    const { log, sink } = await writeLog(dir, 0);
    const before = sink.commits;
    const order: number[] = [];
    for (let i = 0; i < 500; i++) {
      log.append('main', 'connected', `x${i}`, { session: `y${i}` }, i);
      sink.afterCommit(() => order.push(i));
    }
    expect(order).toEqual([]);
    await sink.flushed();
    expect(sink.commits - before).toBe(1);
    expect(order).toEqual([...Array(500).keys()]);
    const lines = readFileSync(listSegments(dir)[0]!.path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(501);
    await sink.close();
  });

  it('on a failing disk acknowledges nothing, reports it, and writes every record once the disk takes them', async () => {
    const dir = freshDir();
    const errors: Error[] = [];
    const sink = new GroupCommitSink(dir, { retryMs: 20, onError: (error) => errors.push(error) });
    const log = new EventLog({ sink });
    log.append('main', 'room.opened', null, { settings }, 0);
    await sink.flushed();
    sink.rotate();
    // The next segment is a full disk: every write to it fails with ENOSPC.
    const next = join(dir, segmentName(log.lastSeq + 1));
    expect(listSegments(dir)[0]!.name).toMatch(/^log-0+1\.jsonl$/);
    symlinkSync('/dev/full', next);
    let acknowledged = 0;
    for (let i = 0; i < 5; i++) {
      log.append('main', 'connected', `c${i}`, { session: `s${i}` }, i);
      sink.afterCommit(() => acknowledged++);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor('a few failed tries', () => errors.length >= 3, 5000);
    expect(acknowledged).toBe(0);
    expect(sink.failure).toMatchObject({ code: 'ENOSPC' });
    unlinkSync(next); // space is back
    await waitFor('the records to be acknowledged', () => acknowledged === 5, 5000);
    expect(sink.failure).toBeNull();
    await sink.close();
    const lines = readFileSync(next, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { seq: number });
    expect(lines.map((record) => record.seq)).toEqual([2, 3, 4, 5, 6]);
    expect((await recoverDataDir(dir)).lastSeq).toBe(6);
  });

  it('runs afterCommit at once when nothing is waiting', () => {
    const sink = new GroupCommitSink(freshDir());
    let ran = false;
    sink.afterCommit(() => (ran = true));
    expect(ran).toBe(true);
  });
});

describe('recovery', () => {
  it('rebuilds the room from the log alone, cutting off and reporting a torn last record', async () => {
    const dir = freshDir();
    const { sink } = await writeLog(dir, 5);
    await sink.close();
    const segment = listSegments(dir)[0]!.path;
    const whole = statSync(segment).size;
    appendFileSync(segment, '{"v":2,"seq":99,"at":1,"room":"ma');
    const recovered = await recoverDataDir(dir, { cutTorn: true });
    expect(recovered.torn).toMatchObject({ segment: listSegments(dir)[0]!.name, text: '{"v":2,"seq":99,"at":1,"room":"ma' });
    expect(statSync(segment).size).toBe(whole);
    const state = recovered.rooms.get('main')!.state;
    expect([...state.seats.values()].map((seat) => seat.session)).toEqual(['s0']);
    expect([...state.queue.entries()].map(([, w]) => w.session)).toEqual(['s1', 's2', 's3', 's4']);
    expect(recovered.snapshot).toBeNull();
  });

  it('starts from the newest snapshot plus the tail, and falls back to the one before when it is damaged', async () => {
    const dir = freshDir();
    const { log, sink } = await writeLog(dir, 3);
    const state = createAdmissionState(settings);
    for (let i = 0; i < 3; i++) settle(state, { type: 'join', conn: `c${i}`, session: `s${i}` }, i);
    await writeSnapshot(dir, { seq: log.lastSeq, at: 0, rooms: [{ name: 'main', settings, admission: snapshotOfAdmission(state) }] });
    const firstSnapshotSeq = log.lastSeq;
    log.append('main', 'connected', 'c9', { session: 's9' }, 9);
    log.appendDecision('main', { type: 'queued', conn: 'c9', session: 's9', position: 3, queueLength: 3 }, 9);
    await writeSnapshot(dir, { seq: log.lastSeq, at: 0, rooms: [{ name: 'main', settings, admission: snapshotOfAdmission(state) }] });
    log.append('main', 'connected', 'c10', { session: 's10' }, 10);
    log.appendDecision('main', { type: 'queued', conn: 'c10', session: 's10', position: 3, queueLength: 3 }, 10);
    await sink.close();

    // The newest snapshot (deliberately missing s9) is used as it is: only the tail after it is folded.
    const fromNewest = await recoverDataDir(dir);
    expect(fromNewest.snapshot?.seq).toBe(firstSnapshotSeq + 2);
    expect(fromNewest.tail).toBe(2);
    expect([...fromNewest.rooms.get('main')!.state.queue.entries()].map(([, w]) => w.session)).toEqual(['s1', 's2', 's10']);

    const newest = join(dir, snapshotName(firstSnapshotSeq + 2));
    writeFileSync(newest, readFileSync(newest, 'utf8').replace('"s1"', '"s7"'));
    const fallback = await recoverDataDir(dir);
    expect(fallback.skipped).toEqual([expect.stringContaining('checksum does not match')]);
    expect(fallback.snapshot?.seq).toBe(firstSnapshotSeq);
    expect([...fallback.rooms.get('main')!.state.queue.entries()].map(([, w]) => w.session)).toEqual(['s1', 's2', 's9', 's10']);

    writeFileSync(join(dir, snapshotName(firstSnapshotSeq)), 'not a snapshot');
    const fromLog = await recoverDataDir(dir);
    expect(fromLog.snapshot).toBeNull();
    expect(fromLog.skipped).toHaveLength(2);
    expect([...fromLog.rooms.get('main')!.state.queue.entries()].map(([, w]) => w.session)).toEqual(['s1', 's2', 's9', 's10']);
  });
});

describe('the data dir lock and secrets', () => {
  it('refuses a second owner while the first runs, and takes over a lock whose process is gone', () => {
    const dir = freshDir();
    const lock = acquireDataDirLock(dir);
    expect(() => acquireDataDirLock(dir)).toThrow(`in use by another anteroom server (pid ${process.pid})`);
    lock.release();
    writeFileSync(join(dir, 'lock'), '2147483646\n');
    const taken = acquireDataDirLock(dir);
    expect(readFileSync(taken.path, 'utf8').trim()).toBe(String(process.pid));
    taken.release();
  });

  it('generates the signing key and resume secret once, readable by the owner only', () => {
    const dir = freshDir();
    const first = loadOrCreateSecrets(dir);
    const again = loadOrCreateSecrets(dir);
    expect(again.resumeSecret.equals(first.resumeSecret)).toBe(true);
    expect(readFileSync(again.keyFile, 'utf8')).toBe(readFileSync(first.keyFile, 'utf8'));
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'resume-secret')).mode & 0o777).toBe(0o600);
  });
});
