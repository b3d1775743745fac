import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readDataDirLog } from '../../src/durable/data-dir-log.js';
import { replay } from '../../src/log/replay.js';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

const scratch = mkdtempSync(join(tmpdir(), 'anteroom-interleaved-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(closeAll);

// Seats time out fast and queued sockets are pinged often, so many actors' timers arm and fire interleaved.
const flagsFor = (dir: string) => ['--data-dir', dir, '--capacity', '3', '--heartbeat-timeout', '300', '--queue-ping', '50'];
const withResume = (url: string, token: string) => `${url}/?resume=${encodeURIComponent(token)}`;

describe('replay of a room whose many connections share one system', () => {
  it('reproduces every timer, by number, across evictions, resumes and a restart', async () => {
    const dir = mkdtempSync(join(scratch, 'run-'));
    const before = await startServer(flagsFor(dir));
    // Silent clients: each seated one is evicted by its heartbeat timer, and the next in line gets its seat.
    const clients = await Promise.all(Array.from({ length: 24 }, () => TestClient.placed(before.url)));
    const room = () => before.server.rooms.get('main')!.runtime;
    await waitFor('a few seats to have timed out', () => clients.filter((c) => c.messages.some((m) => m.type === 'evicted')).length >= 6, 15_000);
    // Some in line drop and come back by resume, with their timers still running on the others.
    const waiting = clients.filter((c) => c.lastStatus?.status === 'queued' && !c.messages.some((m) => m.type === 'evicted')).slice(-4);
    const tokens = waiting.map((c) => c.lastStatus!.resumeToken as string);
    for (const client of waiting) client.terminate();
    const sessions = waiting.map((c) => c.lastStatus!.session as string);
    await waitFor('the drops to be seen', () => sessions.every((session) => room().holdsPlaceFor(session)), 10_000);
    const back = await Promise.all(tokens.map((token) => TestClient.placed(withResume(before.url, token))));
    expect(back.every((c) => c.lastStatus?.status === 'queued')).toBe(true);
    // The stop writes a snapshot and the log kept after it starts there: the part before is checked now.
    const first = await readDataDirLog(dir);
    const firstTimers = first.records.filter((r) => r.kind === 'timer');
    expect(new Set(firstTimers.map((r) => r.conn)).size).toBeGreaterThan(10);
    expect(replay(first.records, first.seed ? { seed: first.seed } : {})).toMatchObject({ ok: true });
    await before.close();

    const after = await startServer(flagsFor(dir));
    const returned = await Promise.all(tokens.map((token) => TestClient.placed(withResume(after.url, token))));
    // Their queue pings are timers of their new actors, after the restart.
    let pings = 0;
    for (const client of returned) client.ws.on('ping', () => pings++);
    await waitFor('queue pings after the restart', () => pings >= 3 * returned.length, 15_000);
    await after.close();

    const log = await readDataDirLog(dir);
    const timers = log.records.filter((r) => r.kind === 'timer');
    expect(new Set(timers.map((r) => r.conn)).size).toBe(returned.length);
    const result = replay(log.records, log.seed ? { seed: log.seed } : {});
    expect(result).toMatchObject({ ok: true });
  }, 60_000);
});
