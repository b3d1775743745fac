import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../../src/log/replay.js';
import { closeAll, getJson, sleep, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);


describe('heartbeat', () => {
  it('evicts a silent active session between 3.0 and 3.6 s, promotes the head, and keeps pinging ones for 10 s', async () => {
    live = await startServer(['--capacity', '2']);
    // The seat (and its heartbeat timer) starts between these two instants.
    const connectingAt = Date.now();
    const silent = await TestClient.placed(live.url);
    const admittedAt = silent.lastStatus!.receivedAt as number;
    const pinging = await TestClient.placed(live.url);
    const waiter = await TestClient.placed(live.url);
    // Every second rather than the suggested 2 s: when the suite loads both cores, this test's own timers can
    // slip by a second, and the test is about the server's clock, not ours.
    const pings = setInterval(() => {
      pinging.send({ type: 'ping' });
      if (waiter.lastStatus?.status === 'active') waiter.send({ type: 'ping' });
    }, 1000);
    try {
      const evicted = await silent.next((m) => m.type === 'evicted', 5000);
      const closed = await silent.closed;
      expect(evicted.reason).toBe('heartbeat_timeout');
      expect(closed.code).toBe(4000);
      expect(evicted.receivedAt - connectingAt).toBeGreaterThanOrEqual(3000);
      expect(evicted.receivedAt - admittedAt).toBeLessThan(3600);
      // The seat went to the head of the line at once.
      const promoted = await waiter.next((m) => m.type === 'status' && m.status === 'active', 1000);
      expect(promoted.receivedAt - evicted.receivedAt).toBeLessThan(100);
      await sleep(10_000 - (Date.now() - admittedAt));
      expect(pinging.ws.readyState, JSON.stringify(pinging.messages.slice(-3))).toBe(pinging.ws.OPEN);
      expect(pinging.messages.filter((m) => m.type === 'pong').length).toBeGreaterThanOrEqual(4);
      expect(pinging.messages.some((m) => m.type === 'evicted')).toBe(false);
      expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 2, queued: 0 });
      const records = live.server.log.since(0, 1_000_000);
      expect(records.some((r) => r.kind === 'timer')).toBe(true);
      expect(replay(records)).toMatchObject({ ok: true });
    } finally {
      clearInterval(pings);
    }
  }, 20_000);

  it('any well-formed message counts as a heartbeat, a malformed one does not', async () => {
    live = await startServer(['--capacity', '2', '--heartbeat-timeout', '600', '--heartbeat-interval', '200']);
    const resumer = await TestClient.placed(live.url);
    const garbler = await TestClient.placed(live.url);
    const timer = setInterval(() => {
      resumer.send({ type: 'resume', token: 'not-a-token' });
      garbler.send('{nope');
    }, 150);
    try {
      expect((await garbler.closed).code).toBe(4000);
      await sleep(800);
      expect(resumer.ws.readyState).toBe(resumer.ws.OPEN);
    } finally {
      clearInterval(timer);
    }
  });

  it('drops a queued client that answers no ping frame for two intervals with 4000, without stalling the line', async () => {
    live = await startServer(['--capacity', '1', '--queue-ping', '300']);
    const seated = await TestClient.placed(live.url);
    const deaf = await TestClient.placed(live.url, { autoPong: false });
    const alive = await TestClient.placed(live.url);
    expect(deaf.lastStatus!.position).toBe(1);
    const keep = setInterval(() => seated.send({ type: 'ping' }), 200);
    try {
      const closed = await deaf.closed;
      expect(closed.code).toBe(4000);
      expect(deaf.messages.some((m) => m.type === 'evicted' && m.reason === 'heartbeat_timeout')).toBe(true);
      await alive.until((s) => s.position === 1, 1000);
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    } finally {
      clearInterval(keep);
    }
  });
});
