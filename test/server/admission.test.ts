import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../../src/log/replay.js';
import { closeAll, getJson, sleep, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

let live: LiveServer | undefined;

afterEach(closeAll);

async function openClients(count: number, url = live!.url): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  // One at a time, so join order is known.
  for (let i = 0; i < count; i++) {
    const client = await TestClient.open(url);
    await client.next((m) => m.type === 'status');
    clients.push(client);
  }
  return clients;
}

/** Keeps active clients alive while a test runs. */
function keepPinging(clients: TestClient[]): () => void {
  const timer = setInterval(() => {
    for (const c of clients) if (c.ws.readyState === c.ws.OPEN) c.send({ type: 'ping' });
  }, 500);
  return () => clearInterval(timer);
}

describe('admission over real sockets', () => {
  it('seats the first five and queues the rest at exact positions 1..n', async () => {
    live = await startServer();
    const clients = await openClients(9);
    for (const c of clients.slice(0, 5)) {
      expect(c.lastStatus).toMatchObject({ status: 'active', heartbeat: { intervalMs: 2000, timeoutMs: 3000 } });
      expect(typeof c.lastStatus!.token).toBe('string');
    }
    clients.slice(5).forEach((c, i) => {
      expect(c.lastStatus).toMatchObject({ status: 'queued', position: i + 1 });
      expect(typeof c.lastStatus!.resumeToken).toBe('string');
    });
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ capacity: 5, active: 5, queued: 4, status: 'open' });
  });

  it('promotes the head within 100 ms of an active close', async () => {
    live = await startServer();
    const clients = await openClients(6);
    const closedAt = Date.now();
    clients[0]!.close();
    const active = await clients[5]!.next((m) => m.type === 'status' && m.status === 'active');
    expect(active.receivedAt - closedAt).toBeLessThan(100);
  });

  it('keeps FIFO order with exact positions over several promotions', async () => {
    live = await startServer();
    const clients = await openClients(12);
    const stop = keepPinging(clients);
    try {
      for (let round = 0; round < 4; round++) {
        await clients[round]!.close();
        const promoted = clients[5 + round]!;
        await promoted.until((s) => s.status === 'active');
        for (let i = 6 + round; i < clients.length; i++) {
          await clients[i]!.until((s) => s.status === 'queued' && s.position === i - 5 - round, 1000);
        }
      }
      expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 5, queued: 3 });
    } finally {
      stop();
    }
  });

  it('a queued leave shifts the positions behind it and closes with 1000', async () => {
    live = await startServer(['--capacity', '1']);
    const clients = await openClients(5);
    const stop = keepPinging(clients);
    try {
      clients[2]!.send({ type: 'leave' });
      expect((await clients[2]!.closed).code).toBe(1000);
      await clients[3]!.until((s) => s.position === 2, 1000);
      await clients[4]!.until((s) => s.position === 3, 1000);
      expect(clients[1]!.lastStatus!.position).toBe(1);
      expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 3 });
    } finally {
      stop();
    }
  });

  it('an active leave frees the seat for the head at once', async () => {
    live = await startServer(['--capacity', '1']);
    const [first, second] = await openClients(2);
    first!.send({ type: 'leave' });
    expect((await first!.closed).code).toBe(1000);
    await second!.until((s) => s.status === 'active', 1000);
  });

  it('five simultaneous closes promote exactly the next five', async () => {
    live = await startServer();
    const clients = await openClients(12);
    const stop = keepPinging(clients);
    try {
      await Promise.all(clients.slice(0, 5).map((c) => c.close()));
      for (const c of clients.slice(5, 10)) await c.until((s) => s.status === 'active', 1000);
      await clients[10]!.until((s) => s.position === 1, 1000);
      await clients[11]!.until((s) => s.position === 2, 1000);
      expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 5, queued: 2 });
    } finally {
      stop();
    }
  });

  it('never has more active sessions than seats under churn', async () => {
    live = await startServer(['--capacity', '3']);
    const room = live.server.rooms.get('main')!.runtime;
    let maxActive = 0;
    const record = live.server.log.on('record', () => {
      maxActive = Math.max(maxActive, room.activeCount);
    });
    const clients: TestClient[] = [];
    for (let i = 0; i < 60; i++) {
      const client = new TestClient(live.url);
      clients.push(client);
      if (i % 3 === 0 && clients.length > 2) clients[clients.length - 3]!.terminate();
      if (i % 4 === 0 && clients.length > 1) clients[clients.length - 2]!.close();
      if (i % 5 === 0) await sleep(2);
    }
    // Settled: every socket the clients still hold is placed, and the server holds exactly those.
    const open = () => clients.filter((c) => c.ws.readyState === c.ws.OPEN);
    await waitFor('every open socket placed and every closed one forgotten', () =>
      open().every((c) => c.lastStatus !== undefined) && live!.server.clients.size === open().length,
    );
    record.removeAllListeners();
    expect(maxActive).toBeLessThanOrEqual(3);
    const view = await getJson(`${live.httpUrl}/api/rooms/main`);
    expect(view.active).toBeLessThanOrEqual(3);
    // Every open socket is either seated or queued; no seat belongs to a closed one.
    const stillOpen = clients.filter((c) => c.ws.readyState === c.ws.OPEN).length;
    expect(view.active + view.queued - view.held).toBe(stillOpen);
    expect(view.active).toBe(Math.min(3, stillOpen));
    // What happened on real sockets and timers replays to the same decisions.
    const records = live.server.log.since(0, 1_000_000);
    expect(records[0]!.seq).toBe(1);
    expect(replay(JSON.parse(JSON.stringify(records)))).toMatchObject({ ok: true });
  });

  it('50 connect/close cycles leave no ghost session', async () => {
    live = await startServer(['--capacity', '2']);
    for (let i = 0; i < 50; i++) {
      const client = await TestClient.open(live.url);
      await client.next((m) => m.type === 'status');
      await client.close(1000);
    }
    await waitFor('every close handled', () => live!.server.clients.size === 0);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 0, queued: 0, held: 0 });
    expect(live.server.clients.size).toBe(0);
    expect(live.server.rooms.get('main')!.runtime.connectionCount).toBe(0);
  });

  it('serves named rooms and closes an unknown room with 4004', async () => {
    live = await startServer([], {}, {});
    const main = await TestClient.open(`${live.url}/rooms/main`);
    expect((await main.next((m) => m.type === 'status')).status).toBe('active');
    const unknown = new TestClient(`${live.url}/rooms/nope`);
    expect((await unknown.closed).code).toBe(4004);
  });
});
