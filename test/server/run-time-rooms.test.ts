import { afterEach, describe, expect, it } from 'vitest';
import { RoomFold } from '../../src/log/room-fold.js';
import { replay } from '../../src/log/replay.js';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const adminToken = 'an-admin-token-for-tests';

function request(method: string, path: string, body?: unknown, token: string | null = adminToken): Promise<Response> {
  return fetch(`${live!.httpUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('rooms created, changed and removed at run time', () => {
  it('PUT creates a room that takes visitors at once, recorded as opened by an operator', async () => {
    live = await startServer(['--admin-token', adminToken]);
    expect((await request('PUT', '/api/rooms/tonight', { capacity: 1 }, null)).status).toBe(401);
    const created = await request('PUT', '/api/rooms/tonight', { capacity: 1, admissionRate: 5, heartbeatTimeoutMs: 60_000 });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'tonight', capacity: 1, admissionRate: 5, status: 'open' });
    const seated = await TestClient.placed(`${live.url}/rooms/tonight`);
    const waiting = await TestClient.placed(`${live.url}/rooms/tonight`);
    expect([seated.lastStatus!.status, waiting.lastStatus!.position]).toEqual(['active', 1]);
    const opened = live.server.log.since(0, 1000).find((r) => r.kind === 'room.opened' && r.room === 'tonight');
    expect(opened?.data).toMatchObject({ createdBy: 'operator', settings: { capacity: 1, admissionRate: 5 } });
    expect((await getJson(`${live.httpUrl}/api/rooms`)).rooms.map((r: { name: string }) => r.name)).toEqual(['main', 'tonight']);
  });

  it('validates like the rooms file: 400 for a bad field, value or name', async () => {
    live = await startServer(['--admin-token', adminToken]);
    for (const [path, body] of [
      ['/api/rooms/x', { capacity: -1 }],
      ['/api/rooms/x', { colour: 'red' }],
      ['/api/rooms/x', { opensAt: 'tonight' }],
      ['/api/rooms/x', { heartbeatTimeoutMs: 1000, heartbeatIntervalMs: 2000 }],
      ['/api/rooms/x', { name: 'y' }],
      ['/api/rooms/Bad%20Name', {}],
    ] as const) {
      expect((await request('PUT', path, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await getJson(`${live.httpUrl}/api/rooms`)).rooms).toHaveLength(1);
  });

  it('PUT on a running room changes capacity, maxQueue and admissionRate live; other changes are 409', async () => {
    live = await startServer(['--admin-token', adminToken]);
    await request('PUT', '/api/rooms/tonight', { capacity: 1 });
    const changed = await request('PUT', '/api/rooms/tonight', { capacity: 3, admissionRate: 2 });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ capacity: 3, admissionRate: 2 });
    expect((await request('PUT', '/api/rooms/tonight', { capacity: 3, queuePingMs: 1000 })).status).toBe(409);
  });

  it('DELETE closes everyone with 4006 and removes the room; its log replays and folds', async () => {
    live = await startServer(['--admin-token', adminToken]);
    await request('PUT', '/api/rooms/tonight', { capacity: 1, heartbeatTimeoutMs: 60_000 });
    const seated = await TestClient.placed(`${live.url}/rooms/tonight`);
    const waiting = await TestClient.placed(`${live.url}/rooms/tonight`);
    expect((await request('DELETE', '/api/rooms/tonight')).status).toBe(200);
    expect((await seated.closed).code).toBe(4006);
    expect((await waiting.closed).code).toBe(4006);
    expect((await request('DELETE', '/api/rooms/tonight')).status).toBe(404);
    const after = await TestClient.open(`${live.url}/rooms/tonight`);
    expect((await after.closed).code).toBe(4004);
    const records = live.server.log.since(0, 1000);
    expect(records.some((r) => r.kind === 'room.removed' && r.room === 'tonight')).toBe(true);
    expect(replay(records)).toMatchObject({ ok: true });
    expect([...RoomFold.of(records).rooms.keys()]).toEqual(['main']);
  });
});
