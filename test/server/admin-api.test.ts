import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseRoomsFile } from '../../src/config/rooms-file.js';
import { defaultRoomSettings, parseServeArgs } from '../../src/config/server-config.js';
import { replay } from '../../src/log/replay.js';
import { createLogger } from '../../src/server/logger.js';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const adminToken = 'an-admin-token-for-tests';
const room = () => getJson(`${live!.httpUrl}/api/rooms/main`);

function post(path: string, body: unknown, token: string | null = adminToken): Promise<Response> {
  return fetch(`${live!.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function line(count: number, capacity = 1): Promise<TestClient[]> {
  live = await startServer(['--capacity', String(capacity), '--admin-token', adminToken, '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await TestClient.placed(live.url));
  return clients;
}

describe('admin API', () => {
  it('refuses writes without the flag (403), without or with a wrong bearer token (401), and changes nothing', async () => {
    live = await startServer();
    expect((await post('/api/rooms/main', { capacity: 9 })).status).toBe(403);
    await live.close();
    await line(1);
    expect((await post('/api/rooms/main', { capacity: 9 }, null)).status).toBe(401);
    expect((await post('/api/rooms/main', { capacity: 9 }, 'wrong-token')).status).toBe(401);
    expect(await room()).toMatchObject({ capacity: 1 });
  });

  it('answers 400 to bodies it cannot apply, and 404 to an unknown room', async () => {
    await line(1);
    for (const body of ['{not json', [], { capacity: -1 }, { capacity: 1.5 }, { status: 'asleep' }, { colour: 'red' }, {}]) {
      const response = await post('/api/rooms/main', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await post('/api/rooms/main/kick', { session: 42 })).status).toBe(400);
    const huge = await post('/api/rooms/main', JSON.stringify({ capacity: 2, note: 'x'.repeat(20 * 1024) }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: 'too_large' });
    expect((await post('/api/rooms/nope', { capacity: 2 })).status).toBe(404);
    expect(await room()).toMatchObject({ capacity: 1, status: 'open', active: 1 });
  });

  it('reports the settings an operator changed, from the room itself, everywhere it shows them', async () => {
    await line(1);
    await post('/api/rooms/main', { maxQueue: 7, capacity: 2 });
    expect(await room()).toMatchObject({ capacity: 2, maxQueue: 7 });
    const all = await getJson(`${live!.httpUrl}/api/rooms`);
    expect(JSON.stringify(all)).toContain('"maxQueue":7');
  });

  it('answers 400, not 500, to room names that are not valid percent-encoding, and logs no error', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', false, { write: (chunk: string) => chunk.split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l))) });
    live = await startServer(['--admin-token', adminToken], { logger });
    for (const path of ['/api/rooms/%', '/api/rooms/%E0%A4%A', '/api/rooms/%ZZ/kick']) {
      expect((await fetch(`${live.httpUrl}${path}`)).status, path).toBe(400);
      expect((await post(path, { capacity: 2 }, null)).status, path).toBe(400);
    }
    expect((await fetch(`${live.httpUrl}/api/rooms/${encodeURIComponent('../main')}`)).status).toBe(404);
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it('refuses the capacities the flags and the rooms file refuse: no 1e308, nothing a double cannot hold exactly', async () => {
    await line(1);
    for (const body of ['{"capacity":1e308}', '{"capacity":9007199254740993}', '{"maxQueue":1e400}', '{"capacity":"5"}', '{"capacity":true}']) {
      const response = await post('/api/rooms/main', body);
      expect(response.status, body).toBe(400);
      expect((await response.json()).message, body).toMatch(/^(capacity|maxQueue) must be a whole number >= 0, got /);
    }
    // The same values are refused however they arrive.
    for (const value of ['1e308', '9007199254740993']) {
      expect(() => parseServeArgs(['--capacity', value], {})).toThrow(ConfigError);
      expect(() => parseServeArgs([], { ANTEROOM_CAPACITY: value })).toThrow(ConfigError);
      expect(() => parseRoomsFile(`{"rooms":[{"name":"main","capacity":${value}}]}`, defaultRoomSettings, 'rooms.json')).toThrow(ConfigError);
    }
    expect(await room()).toMatchObject({ capacity: 1 });
    expect(await (await post('/api/rooms/main', { capacity: Number.MAX_SAFE_INTEGER })).json()).toMatchObject({ capacity: Number.MAX_SAFE_INTEGER });
  });

  it('raising capacity admits the head of the line at once; lowering it evicts no one', async () => {
    const clients = await line(4);
    const raised = await post('/api/rooms/main', { capacity: 3 });
    expect(await raised.json()).toMatchObject({ capacity: 3, active: 3, queued: 1 });
    await clients[1]!.until((s) => s.status === 'active', 1000);
    await clients[2]!.until((s) => s.status === 'active', 1000);
    await clients[3]!.until((s) => s.position === 1, 1000);
    expect(await (await post('/api/rooms/main', { capacity: 1 })).json()).toMatchObject({ capacity: 1, active: 3, queued: 1 });
    expect(clients.slice(0, 3).every((c) => c.ws.readyState === c.ws.OPEN)).toBe(true);
    // Seats over the new capacity drain: two leave, and still no one is admitted until the room is below it.
    clients[0]!.send({ type: 'leave' });
    clients[1]!.send({ type: 'leave' });
    await Promise.all([clients[0]!.closed, clients[1]!.closed]);
    expect(await room()).toMatchObject({ active: 1, queued: 1 });
    clients[2]!.send({ type: 'leave' });
    await clients[3]!.until((s) => s.status === 'active', 1000);
  });

  it('pause keeps every place and admits no one; open admits at once', async () => {
    const [seated, waiting] = await line(2);
    expect(await (await post('/api/rooms/main', { status: 'paused' })).json()).toMatchObject({ status: 'paused' });
    seated!.send({ type: 'leave' });
    await seated!.closed;
    expect(await room()).toMatchObject({ status: 'paused', active: 0, queued: 1 });
    expect(waiting!.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    await post('/api/rooms/main', { status: 'open' });
    await waiting!.until((s) => s.status === 'active', 1000);
  });

  it('closing the room evicts everyone with room_closed and 4006 and turns newcomers away with 4006', async () => {
    const clients = await line(3);
    expect(await (await post('/api/rooms/main', { status: 'closed' })).json()).toMatchObject({ status: 'closed', active: 0, queued: 0 });
    for (const client of clients) {
      expect((await client.closed).code).toBe(4006);
      expect(client.messages.find((m) => m.type === 'evicted')?.reason).toBe('room_closed');
    }
    const late = new TestClient(live!.url);
    expect((await late.closed).code).toBe(4006);
  });

  it('answers 404 to a kick of a session the room does not have, and disturbs no one', async () => {
    const [seated, waiting] = await line(2);
    const response = await post('/api/rooms/main/kick', { session: 'no-such-session' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'unknown_session' });
    expect(await room()).toMatchObject({ active: 1, queued: 1 });
    expect(seated!.ws.readyState).toBe(seated!.ws.OPEN);
    expect(waiting!.ws.readyState).toBe(waiting!.ws.OPEN);
    expect(replay(live!.server.log.since(0, 1_000_000))).toMatchObject({ ok: true });
  });

  it('kicks a session by id, promotes the head, and every change replays from the log', async () => {
    const [seated, waiting] = await line(2);
    const response = await post('/api/rooms/main/kick', { session: seated!.lastStatus!.session });
    expect(response.status).toBe(200);
    expect((await seated!.next((m) => m.type === 'evicted')).reason).toBe('kicked');
    expect((await seated!.closed).code).toBe(4008);
    await waiting!.until((s) => s.status === 'active', 1000);
    const records = live!.server.log.since(0, 1_000_000);
    expect(records.filter((r) => r.kind === 'config').map((r) => r.data.type)).toEqual(['kick']);
    expect(replay(records)).toMatchObject({ ok: true });
  });
});
