import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, sleep, startServer, TestClient, type LiveServer } from '../../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const roomState = () => getJson(`${live!.httpUrl}/api/rooms/main`);
const keepAlive = ['--heartbeat-timeout', '60000', '--heartbeat-interval', '1000'];

describe('per-connection rate limit', () => {
  it('charges a large message one token per started KiB, so padding cannot buy more work than the rate', async () => {
    // Two a second, four saved: a message of 60 KiB empties the bucket; the small one after it must wait.
    live = await startServer(['--capacity', '1', '--rate-limit', '2', ...keepAlive]);
    const seated = await TestClient.placed(live.url);
    seated.send({ type: 'ping', pad: 'x'.repeat(60 * 1024) });
    seated.send({ type: 'ping' });
    await seated.next((m) => m.type === 'pong');
    const refusal = await seated.next((m) => m.type === 'error');
    expect(refusal.code).toBe('rate_limited');
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(seated.messages.filter((m) => m.type === 'pong')).toHaveLength(1);
  });

  it('allows a burst of twice the rate, then refuses with rate_limited and retryAfterMs and changes nothing', async () => {
    // Two a second, four saved: a token takes 500 ms to come back, far longer than the burst takes to arrive.
    live = await startServer(['--capacity', '1', '--rate-limit', '2', ...keepAlive]);
    const seated = await TestClient.placed(live.url);
    const queued = await TestClient.placed(live.url);
    const before = await roomState();
    const recordsBefore = live.server.log.lastSeq;

    for (let i = 0; i < 4; i++) queued.send({ type: 'ping' });
    // Over the burst: a leave that would free the place must be refused like anything else.
    queued.send({ type: 'leave' });
    const refusal = await queued.next((m) => m.type === 'error');
    expect(refusal.code).toBe('rate_limited');
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(500);
    expect(queued.messages.filter((m) => m.type === 'pong')).toHaveLength(4);

    await sleep(50);
    expect(queued.ws.readyState).toBe(queued.ws.OPEN);
    expect(await roomState()).toEqual(before);
    // The refused leave never reached the room: only the four pings were recorded.
    const recorded = live.server.log.since(recordsBefore, 1000).filter((r) => r.kind === 'message');
    expect(recorded.map((r) => r.data.type)).toEqual(Array(4).fill('ping'));

    // After the advised wait a message is accepted again.
    await sleep(refusal.retryAfterMs + 20);
    queued.send({ type: 'ping' });
    await queued.next((m) => m.type === 'pong');
    expect(seated.lastStatus?.status).toBe('active');
    expect(await live.server.metrics.render()).toMatch(/^anteroom_rate_limited_total 1$/m);
  });

  it('closes a flooding queued client with 1008 and releases its place, leaving the others untouched', async () => {
    live = await startServer(['--capacity', '1', '--rate-limit', '5', ...keepAlive]);
    const seated = await TestClient.placed(live.url);
    const flooder = await TestClient.placed(live.url);
    const behind = await TestClient.placed(live.url);
    expect(behind.lastStatus).toMatchObject({ status: 'queued', position: 2 });

    for (let i = 0; i < 200; i++) flooder.send({ type: 'ping' });
    const closed = await flooder.closed;
    expect(closed.code).toBe(1008);
    expect(flooder.messages.some((m) => m.type === 'error' && m.code === 'rate_limited')).toBe(true);

    // Its place is released (not held), so the one behind moves up and nobody lost a seat.
    await behind.until((s) => s.position === 1);
    expect(await roomState()).toMatchObject({ active: 1, queued: 1, held: 0 });
    for (const client of [seated, behind]) {
      client.send({ type: 'ping' });
      await client.next((m) => m.type === 'pong');
      expect(client.messages.some((m) => m.type === 'error')).toBe(false);
    }
    expect(seated.lastStatus?.status).toBe('active');
    expect(await live.server.metrics.render()).toMatch(/^anteroom_flood_closes_total 1$/m);
  });

  it('closes a flooding seated client with 1008 and promotes the head in its place', async () => {
    live = await startServer(['--capacity', '1', '--rate-limit', '5', ...keepAlive]);
    const flooder = await TestClient.placed(live.url);
    const head = await TestClient.placed(live.url);
    expect(flooder.lastStatus?.status).toBe('active');

    for (let i = 0; i < 200; i++) flooder.send({ type: 'ping' });
    expect((await flooder.closed).code).toBe(1008);
    await head.until((s) => s.status === 'active');
    expect(await roomState()).toMatchObject({ active: 1, queued: 0, held: 0 });
    expect(live.server.gate.openCount).toBe(1);
  });

  it('gives each connection its own bucket: a client pinging at its rate is never refused beside a flooder', async () => {
    live = await startServer(['--capacity', '2', '--rate-limit', '20', ...keepAlive]);
    const steady = await TestClient.placed(live.url);
    const flooder = await TestClient.placed(live.url);
    const flood = setInterval(() => {
      if (flooder.ws.readyState === flooder.ws.OPEN) for (let i = 0; i < 20; i++) flooder.send({ type: 'ping' });
    }, 5);
    try {
      // Ten pings at half the rate, while the other connection floods.
      for (let i = 0; i < 10; i++) {
        steady.send({ type: 'ping' });
        await sleep(100);
      }
    } finally {
      clearInterval(flood);
    }
    expect((await flooder.closed).code).toBe(1008);
    await steady.next((m) => m.type === 'pong');
    expect(steady.messages.filter((m) => m.type === 'pong')).toHaveLength(10);
    expect(steady.messages.some((m) => m.type === 'error')).toBe(false);
    expect(steady.lastStatus?.status).toBe('active');
  });
});
