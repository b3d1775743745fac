import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNodeClient } from '../../src/client/node.js';
import { ConfigError } from '../../src/config/config-error.js';
import { readDataDirLog } from '../../src/durable/data-dir-log.js';
import { listSegments } from '../../src/durable/log-segments.js';
import { replay } from '../../src/log/replay.js';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

/** A rooms file naming `main` and `matinee`. */
function writeRooms(dir: string): string {
  const path = join(dir, '..', `rooms-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ rooms: [{ name: 'main' }, { name: 'matinee' }] }));
  return path;
}

const scratch = mkdtempSync(join(tmpdir(), 'anteroom-restart-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(closeAll);

const adminToken = 'restart-admin-token';
const flagsFor = (dir: string, extra: string[] = []) => ['--data-dir', dir, '--capacity', '1', '--heartbeat-timeout', '60000', '--admin-token', adminToken, ...extra];
const withResume = (url: string, token: string) => `${url}/?resume=${encodeURIComponent(token)}`;

/** A server with a seated visitor and two in line; returns them with their last status. */
async function seatedAndTwoWaiting(live: LiveServer) {
  const seated = await TestClient.placed(live.url);
  const first = await TestClient.placed(live.url);
  const second = await TestClient.placed(live.url);
  expect(seated.lastStatus).toMatchObject({ status: 'active', resumeToken: expect.any(String) });
  return { seated, first, second };
}

describe('a data dir keeps the line across a restart', () => {
  it('a graceful stop says restart (1012) and holds every place and seat; after a start each comes back by resume', async () => {
    const dir = mkdtempSync(join(scratch, 'graceful-'));
    const before = await startServer(flagsFor(dir));
    const { seated, first, second } = await seatedAndTwoWaiting(before);
    const seatToken = seated.lastStatus!.resumeToken as string;
    const admissionToken = seated.lastStatus!.token as string;
    await before.close();
    for (const client of [seated, first, second]) {
      expect((await client.closed).code).toBe(1012);
      expect(client.messages.find((m) => m.type === 'evicted')).toMatchObject({ reason: 'restart' });
    }

    const after = await startServer(flagsFor(dir));
    expect(await getJson(`${after.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 2, held: 2 });
    // Tokens signed before the restart still verify: the same key, the same kid.
    await expect(after.server.issuer.verify(admissionToken)).resolves.toMatchObject({ session: seated.lastStatus!.session });

    // A newcomer queues behind the held places and is never given the held seat.
    const newcomer = await TestClient.placed(after.url);
    expect(newcomer.lastStatus).toMatchObject({ status: 'queued', position: 3 });

    const secondBack = await TestClient.placed(withResume(after.url, second.lastStatus!.resumeToken));
    expect(secondBack.lastStatus).toMatchObject({ status: 'queued', session: second.lastStatus!.session, position: 2 });
    const seatedBack = await TestClient.placed(after.url);
    seatedBack.send({ type: 'resume', token: seatToken });
    const active = await seatedBack.next((m) => m.type === 'status' && m.status === 'active');
    expect(active).toMatchObject({ session: seated.lastStatus!.session, resumeToken: seatToken });
    expect(await getJson(`${after.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 3, held: 1 });
  });

  it('keeps what an operator changed at run time: capacity, line limit and status', async () => {
    const dir = mkdtempSync(join(scratch, 'operator-'));
    const before = await startServer(flagsFor(dir));
    const response = await fetch(`${before.httpUrl}/api/rooms/main`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ capacity: 4, maxQueue: 50, status: 'paused' }),
    });
    expect(response.status).toBe(200);
    await before.close();
    const after = await startServer(flagsFor(dir));
    expect(await getJson(`${after.httpUrl}/api/rooms/main`)).toMatchObject({ capacity: 4, maxQueue: 50, status: 'paused' });
    const waiting = await TestClient.placed(after.url);
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    await after.close();
    // A capacity the configuration changes between starts is the newer decision, and wins.
    const reconfigured = await startServer(flagsFor(dir, ['--capacity', '2']));
    expect(await getJson(`${reconfigured.httpUrl}/api/rooms/main`)).toMatchObject({ capacity: 2, maxQueue: 50, status: 'paused' });
  });

  it('keeps rooms an operator created, notices and rates, and does not bring back a room an operator removed', async () => {
    const dir = mkdtempSync(join(scratch, 'run-time-rooms-'));
    const admin = (live: { httpUrl: string }, method: string, path: string, body?: unknown) =>
      fetch(`${live.httpUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const before = await startServer(flagsFor(dir, ['--config', writeRooms(dir)]));
    expect((await admin(before, 'PUT', '/api/rooms/tonight', { capacity: 1 })).status).toBe(201);
    expect((await admin(before, 'POST', '/api/rooms/tonight', { notice: 'Doors at eight', admissionRate: 3 })).status).toBe(200);
    expect((await admin(before, 'DELETE', '/api/rooms/matinee')).status).toBe(200);
    const seated = await TestClient.placed(`${before.url}/rooms/tonight`);
    const waiting = await TestClient.placed(`${before.url}/rooms/tonight`);
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1, notice: 'Doors at eight' });
    await before.close();
    // Both ways back: from a snapshot taken at the stop, and, after a second start, from it again.
    for (let start = 0; start < 2; start++) {
      const after = await startServer(flagsFor(dir, ['--config', writeRooms(dir)]));
      expect(await getJson(`${after.httpUrl}/api/rooms/tonight`)).toMatchObject({ capacity: 1, notice: 'Doors at eight', admissionRate: 3, queued: 1 });
      expect((await fetch(`${after.httpUrl}/api/rooms/matinee`)).status).toBe(404);
      const back = await TestClient.placed(withResume(`${after.url}/rooms/tonight`, waiting.lastStatus!.resumeToken));
      expect(back.lastStatus).toMatchObject({ status: 'queued', position: 1, session: waiting.lastStatus!.session });
      await after.close();
    }
    expect(seated.messages.some((m) => m.type === 'evicted' && m.reason === 'restart')).toBe(true);
  });

  it('keeps the ticket secret of a room an operator created, outside the log, and refuses an unreadable ticketJwks', async () => {
    const dir = mkdtempSync(join(scratch, 'room-secrets-'));
    const ticketSecret = 'a-run-time-ticket-secret-32-chars';
    const put = (live: { httpUrl: string }, room: string, body: unknown) =>
      fetch(`${live.httpUrl}/api/rooms/${room}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify(body),
      });
    const before = await startServer(flagsFor(dir));
    const refused = await put(before, 'broken', { ticketJwks: join(dir, 'no-such-jwks.json') });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('ticketJwks') });
    expect((await fetch(`${before.httpUrl}/api/rooms/broken`)).status).toBe(404);
    expect((await put(before, 'vip', { ticketSecret })).status).toBe(201);
    await before.close();
    expect(statSync(join(dir, 'room-secrets.json')).mode & 0o777).toBe(0o600);
    expect(JSON.stringify((await readDataDirLog(dir)).records)).toContain('"vip"');
    // Only the secrets file holds it: not the log's segments, not its snapshots.
    for (const file of readdirSync(dir).filter((name) => name !== 'room-secrets.json')) {
      if (statSync(join(dir, file)).isFile()) expect(readFileSync(join(dir, file), 'utf8'), file).not.toContain(ticketSecret);
    }
    const after = await startServer(flagsFor(dir));
    const ticket = await new SignJWT({ room: 'vip', priority: 3 }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(ticketSecret));
    const vip = await TestClient.placed(`${after.url}/rooms/vip?ticket=${ticket}`);
    expect(vip.lastStatus).toMatchObject({ status: 'active' });
    const forged = await new SignJWT({ room: 'vip' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    await expect(new TestClient(`${after.url}/rooms/vip?ticket=${forged}`).opened).rejects.toThrow(/401/);
    await after.close();
    // A damaged secrets file stops the start with a message naming it, not a stack trace or a silent loss.
    for (const damaged of ['{"vip":"abc', '', 'null', '{"vip":12}']) {
      writeFileSync(join(dir, 'room-secrets.json'), damaged);
      await expect(startServer(flagsFor(dir))).rejects.toThrow(new ConfigError(`${join(dir, 'room-secrets.json')} is not a JSON object of room ticket secrets; restore it from a backup, or delete it (those rooms then take no tickets)`));
    }
  });

  it('serves a created room whose ticketJwks file went missing while it was down, without tickets', async () => {
    const dir = mkdtempSync(join(scratch, 'jwks-gone-'));
    const jwksFile = join(dir, '..', `jwks-${Math.random().toString(36).slice(2)}.json`);
    const { publicKey } = await generateKeyPair('ES256');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'k1' }] }));
    const before = await startServer(flagsFor(dir));
    const put = await fetch(`${before.httpUrl}/api/rooms/keyed`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ ticketJwks: jwksFile }),
    });
    expect(put.status).toBe(201);
    await before.close();
    rmSync(jwksFile);
    const after = await startServer(flagsFor(dir));
    expect((await TestClient.placed(`${after.url}/rooms/keyed`)).lastStatus).toMatchObject({ status: 'active' });
    await expect(new TestClient(`${after.url}/rooms/keyed?ticket=a.b.c`).opened).rejects.toThrow(/401/);
  });

  it('refuses a ticketJwks that is not a regular JWKS file without echoing what the path holds', async () => {
    const live = await startServer(['--admin-token', adminToken]);
    const fifo = join(scratch, 'jwks-fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of [fifo, '/etc/passwd', scratch]) {
      const refused = await fetch(`${live.httpUrl}/api/rooms/jwks`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ ticketJwks: path }),
      });
      expect(refused.status, path).toBe(400);
      expect(await refused.text(), path).not.toContain('root:');
    }
    expect(await getJson(`${live.httpUrl}/healthz`)).toBeTruthy();
  });

  it('serves a configured room an operator removed and put again as the operator put it', async () => {
    const dir = mkdtempSync(join(scratch, 'put-again-'));
    const admin = (live: { httpUrl: string }, method: string, body?: unknown) =>
      fetch(`${live.httpUrl}/api/rooms/matinee`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const before = await startServer(flagsFor(dir, ['--config', writeRooms(dir)]));
    expect((await admin(before, 'DELETE')).status).toBe(200);
    expect((await admin(before, 'PUT', { capacity: 3, heartbeatTimeoutMs: 45_000 })).status).toBe(201);
    await before.close();
    for (let start = 0; start < 2; start++) {
      const after = await startServer(flagsFor(dir, ['--config', writeRooms(dir)]));
      expect(await getJson(`${after.httpUrl}/api/rooms/matinee`)).toMatchObject({ capacity: 3 });
      expect(after.server.rooms.get('matinee')?.runtime.settings.heartbeatTimeoutMs).toBe(45_000);
      await after.close();
    }
    // Removed and put again after a restart: a new room, not the state recovered at the start.
    const third = await startServer(flagsFor(dir, ['--config', writeRooms(dir)]));
    expect((await admin(third, 'DELETE')).status).toBe(200);
    const again = await admin(third, 'PUT', { capacity: 4 });
    expect(await again.json()).toMatchObject({ status: 'open', capacity: 4, active: 0 });
    expect((await TestClient.placed(`${third.url}/rooms/matinee`)).lastStatus).toMatchObject({ status: 'active' });
    await third.close();
    const fourth = await startServer(flagsFor(dir, ['--config', writeRooms(dir)]));
    expect(await getJson(`${fourth.httpUrl}/api/rooms/matinee`)).toMatchObject({ capacity: 4 });
  });

  it('opens a pre-queue whose opening passed while the server was down, with the draw, by itself', async () => {
    const dir = mkdtempSync(join(scratch, 'pre-queue-'));
    const rooms = join(dir, '..', `sale-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(rooms, JSON.stringify({ rooms: [{ name: 'drop', capacity: 2, opensAt: Date.now() + 1500 }] }));
    const before = await startServer(flagsFor(dir, ['--config', rooms]));
    const waiting = [await TestClient.placed(`${before.url}/rooms/drop`), await TestClient.placed(`${before.url}/rooms/drop`)];
    expect(waiting[0]!.lastStatus).toMatchObject({ position: null, preQueue: true });
    await before.close();
    await waitFor('the opening to pass while the server is down', () => Date.now() > JSON.parse(readFileSync(rooms, 'utf8')).rooms[0].opensAt + 100);
    const after = await startServer(flagsFor(dir, ['--config', rooms]));
    await waitFor('the room to open by itself', async () => (await getJson(`${after.httpUrl}/api/rooms/drop`)).status === 'open');
    // Everyone drawn keeps a place held for them; they come back and are seated.
    const back = await TestClient.placed(withResume(`${after.url}/rooms/drop`, waiting[0]!.lastStatus!.resumeToken));
    await back.until((s) => s.status === 'active');
  });

  it('keeps a seat that followed its visitor to the site across a restart, for as long as the site refreshes it', async () => {
    const dir = mkdtempSync(join(scratch, 'site-'));
    const site = ['--target-url', 'https://shop.example/', '--resume-window', '1000', '--site-session-timeout', '4000'];
    const before = await startServer(flagsFor(dir, site));
    const visitor = await TestClient.placed(before.url);
    const token = visitor.lastStatus!.token as string;
    await visitor.close(1001);
    await before.close();
    const after = await startServer(flagsFor(dir, site));
    const refresh = () => fetch(`${after.httpUrl}/api/sessions/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await refresh()).status).toBe(200);
    // Past the restart's resume window (1 s), the seat is still the visitor's while the site refreshes it.
    const waited = Date.now();
    await waitFor('the resume window to pass', () => Date.now() - waited > 1500);
    expect((await refresh()).status).toBe(200);
    expect(await getJson(`${after.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1 });
    // And the visitor who comes back to the waiting page (a reload) takes the seat back, live.
    const back = await TestClient.placed(withResume(after.url, visitor.lastStatus!.resumeToken));
    expect(back.lastStatus).toMatchObject({ status: 'active', session: visitor.lastStatus!.session });
  });

  it('replays across restarts, from the oldest kept snapshot once older segments are deleted', async () => {
    const dir = mkdtempSync(join(scratch, 'replay-'));
    const first = await startServer(flagsFor(dir));
    const { first: waiting } = await seatedAndTwoWaiting(first);
    await first.close();
    const second = await startServer(flagsFor(dir));
    const back = await TestClient.placed(withResume(second.url, waiting.lastStatus!.resumeToken));
    expect(back.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    await second.close();
    expect(listSegments(dir)[0]!.firstSeq).toBeGreaterThan(1);
    const log = await readDataDirLog(dir);
    expect(log.seededFrom).toMatch(/^snapshot-/);
    expect(log.records[0]).toMatchObject({ kind: 'room.recovered' });
    const result = replay(log.records, { seed: log.seed! });
    expect(result).toMatchObject({ ok: true });
    expect(result.decisions).toBeGreaterThanOrEqual(3); // held, resumed, held again at the stop
  });

  it('holds a dropped seat for --seat-grace, with or without a data dir, and gives it back by resume', async () => {
    const live = await startServer(['--capacity', '1', '--seat-grace', '60000', '--heartbeat-timeout', '60000']);
    const seated = await TestClient.placed(live.url);
    const waiting = await TestClient.placed(live.url);
    seated.terminate();
    // The server has seen the drop once only the waiting connection is left; a released seat would go to it at once.
    await waitFor('the server to see the drop', () => live.server.rooms.get('main')!.runtime.connectionCount === 1);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, away: 1, queued: 1 });
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    const back = await TestClient.placed(withResume(live.url, seated.lastStatus!.resumeToken));
    expect(back.lastStatus).toMatchObject({ status: 'active', session: seated.lastStatus!.session });
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, away: 0, queued: 1 });
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
  });

  it('refuses a second server on the same data dir', async () => {
    const dir = mkdtempSync(join(scratch, 'locked-'));
    await startServer(flagsFor(dir));
    const second = startServer(flagsFor(dir));
    await expect(second).rejects.toThrow(ConfigError);
    await expect(second).rejects.toThrow(/in use by another anteroom server/);
  });

  it('the client library reconnects and resumes its seat across a restart without being asked', async () => {
    const dir = mkdtempSync(join(scratch, 'client-'));
    const before = await startServer(flagsFor(dir));
    const port = new URL(before.url).port;
    const client = createNodeClient({ url: `${before.url}/`, backoff: { baseMs: 50, capMs: 200 } });
    const admitted: string[] = [];
    client.on('admitted', ({ session }) => admitted.push(session));
    client.connect();
    await waitFor('the client to be admitted', () => client.state === 'active');
    const session = client.session;
    await before.close();
    await waitFor('the client to notice the restart', () => client.state === 'reconnecting' || client.state === 'connecting');
    await startServer(flagsFor(dir, ['--port', port]));
    await waitFor('the client to have its seat back', () => client.state === 'active', 10_000);
    expect(client.session).toBe(session);
    client.close();
  });
});
