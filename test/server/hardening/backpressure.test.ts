import { afterEach, describe, expect, it } from 'vitest';
import type { ClientSocket } from '../../../src/server/client-socket.js';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../../support/live-server.js';
import { RawWebSocket, waitFor } from './raw-websocket.js';

let live: LiveServer | undefined;
const raws: RawWebSocket[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await closeAll();
});

/** Every active session here is kept alive by its traffic or by this long timeout, so only backpressure ends one. */
const quietHeartbeat = ['--heartbeat-timeout', '60000', '--heartbeat-interval', '1000', '--rate-limit', '10000000'];

/** A refused message whose error reply is about twice its size: the cheapest way to make the server write a lot. */
const echoingFrame = JSON.stringify({ type: 'x'.repeat(64) });

/** The server-side socket of the newest connection. */
function newestClient(server: LiveServer['server']): ClientSocket {
  return [...server.clients.values()].at(-1)!;
}

/** Writes refused messages (with a ping now and then) until `done` holds or the socket is gone; bounded. */
async function floodUntil(raw: RawWebSocket, done: () => boolean, maxFrames = 400_000): Promise<number> {
  let frames = 0;
  while (!done() && !raw.isClosed && frames < maxFrames) {
    raw.sendTexts(echoingFrame, 1000);
    raw.sendText('{"type":"ping"}');
    frames += 1001;
    // Let the server read and answer before writing more, so the flood is bounded by what it has seen.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return frames;
}

describe('backpressure on a client that never reads', () => {
  it('drops a seated slow reader over its outbound budget, gives the seat to the head and stays healthy', async () => {
    live = await startServer(['--capacity', '1', '--outbound-budget', '4096', ...quietHeartbeat]);
    const raw = await RawWebSocket.open(live.url);
    raws.push(raw);
    await waitFor('the first status', () => raw.messages().length > 0);
    expect(raw.messages()[0]).toMatchObject({ type: 'status', status: 'active' });
    const slow = newestClient(live.server);
    const next = await TestClient.placed(live.url);
    expect(next.lastStatus).toMatchObject({ status: 'queued', position: 1 });

    raw.pause();
    const frames = await floodUntil(raw, () => !live!.server.clients.has(slow.conn));
    expect(live.server.clients.has(slow.conn), `still connected after ${frames} frames`).toBe(false);

    await next.until((s) => s.status === 'active');
    // Reading again, the client sees the server cut its TCP connection (no close handshake: it was not reading).
    raw.resume();
    await raw.closed;
    expect(raw.closeFrame()).toBeUndefined();
    expect(live.server.gate.openCount).toBe(1);
    expect(live.server.clients.size).toBe(1);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 0, held: 0 });
    expect(await getJson(`${live.httpUrl}/healthz`)).toEqual({ ok: true });
    const overflow = live.server.log.since(0, 100_000).filter((r) => r.kind === 'overflow');
    expect(overflow.map((r) => r.conn)).toEqual([slow.conn]);
    expect(await live.server.metrics.render()).toMatch(/^anteroom_slow_client_drops_total\{room="main"\} 1$/m);

    // The server still serves: a newcomer is queued behind the new seat holder and gets answers.
    const late = await TestClient.placed(live.url);
    expect(late.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    late.send({ type: 'ping' });
    expect((await late.next((m) => m.type === 'pong')).t).toBeTypeOf('number');
  });

  it('drops a queued slow reader: its place is held for the resume window, then released', async () => {
    live = await startServer(['--capacity', '1', '--outbound-budget', '4096', '--resume-window', '300', ...quietHeartbeat]);
    const seated = await TestClient.placed(live.url);
    const raw = await RawWebSocket.open(live.url);
    raws.push(raw);
    await waitFor('the first status', () => raw.messages().length > 0);
    expect(raw.messages()[0]).toMatchObject({ type: 'status', status: 'queued', position: 1 });
    const slow = newestClient(live.server);
    const behind = await TestClient.placed(live.url);
    expect(behind.lastStatus).toMatchObject({ status: 'queued', position: 2 });

    raw.pause();
    await floodUntil(raw, () => !live!.server.clients.has(slow.conn));
    expect(live.server.clients.has(slow.conn)).toBe(false);
    raw.resume();
    await raw.closed;

    // A backpressure drop counts as an abnormal end: the place is held, not given away, then expires.
    const released = live.server.log.since(0, 100_000);
    expect(released.some((r) => r.kind === 'held' && r.conn === slow.conn)).toBe(true);
    await waitFor('the held place to expire', async () => (await getJson(`${live!.httpUrl}/api/rooms/main`)).queued === 1);
    await behind.until((s) => s.status === 'queued' && s.position === 1);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 1, held: 0 });
    expect(seated.lastStatus?.status).toBe('active');
    expect(live.server.gate.openCount).toBe(2);
  });

  it('coalesces a slow reader’s position updates into the latest one once it reads again', async () => {
    live = await startServer(['--capacity', '1', '--outbound-budget', String(64 * 1024 * 1024), ...quietHeartbeat]);
    await TestClient.placed(live.url);
    const ahead: TestClient[] = [];
    for (let i = 0; i < 12; i++) ahead.push(await TestClient.placed(live.url));
    const raw = await RawWebSocket.open(live.url);
    raws.push(raw);
    await waitFor('the first status', () => raw.messages().length > 0);
    expect(raw.messages()[0]).toMatchObject({ status: 'queued', position: 13 });
    const slow = newestClient(live.server);

    raw.pause();
    // Past the 64 KiB soft limit position updates are held back; the budget is far away.
    await floodUntil(raw, () => slow.ws.bufferedAmount > 256 * 1024);
    expect(slow.ws.bufferedAmount).toBeGreaterThan(256 * 1024);

    // Twelve separate moves of the line, each in a flush of its own.
    for (const client of ahead) {
      await client.close();
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const runtime = live.server.rooms.get('main')!.runtime;
    expect(runtime.positionOf(slow.conn)).toBe(1);
    expect(live.server.clients.has(slow.conn)).toBe(true);

    raw.resume();
    await waitFor('the latest position', () => raw.messages().some((m) => m.type === 'status' && m.position === 1), 10_000);
    const positions = raw.messages().filter((m) => m.type === 'status').map((m) => m.position as number);
    // The first placement, then at most one stale update sent before the buffer passed the soft limit, then 1.
    expect(positions[0]).toBe(13);
    expect(positions.at(-1)).toBe(1);
    expect(positions.length).toBeLessThanOrEqual(3);
    expect(positions.slice(1, -1).every((p) => p > 1 && p < 13)).toBe(true);
  });
});
