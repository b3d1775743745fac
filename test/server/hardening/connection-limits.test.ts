import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../../support/live-server.js';
import { rawHandshake, waitFor } from './raw-websocket.js';

let live: LiveServer | undefined;
/** The clients a test opened with `openClient`, so it can close them all. */
const clients: TestClient[] = [];

afterEach(async () => {
  clients.length = 0;
  await closeAll();
});

async function openClient(url: string, headers?: Record<string, string>): Promise<TestClient> {
  const client = await TestClient.placed(url, { headers });
  clients.push(client);
  return client;
}

/** The HTTP status an upgrade gets, read off the wire; the socket is closed afterwards. */
async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const { socket, status } = await rawHandshake(url, headers);
  socket.destroy();
  return status;
}

/** Waits until the server has forgotten every closed socket, then checks that nothing is left counted. */
async function expectNothingCounted(server: LiveServer['server']): Promise<void> {
  await waitFor('connection counts to return to zero', () => server.gate.openCount === 0 && server.clients.size === 0);
  expect(server.gate.ipCount).toBe(0);
  expect(server.rooms.get('main')!.runtime.connectionCount).toBe(0);
}

describe('connection limits', () => {
  it('refuses upgrades over the global limit with 503 and admits again once a socket closes', async () => {
    live = await startServer(['--max-connections', '3', '--max-connections-per-ip', '0']);
    const open = [await openClient(live.url), await openClient(live.url), await openClient(live.url)];
    expect(await upgradeStatus(live.url)).toBe(503);
    expect(await upgradeStatus(`${live.url}/rooms/main`)).toBe(503);
    expect(live.server.gate.openCount).toBe(3);

    await open[0]!.close();
    await waitFor('the closed socket to be given back', () => live!.server.gate.openCount === 2);
    const again = await openClient(live.url);
    expect(again.lastStatus?.type).toBe('status');
    expect(await upgradeStatus(live.url)).toBe(503);

    const metrics = await live.server.metrics.render();
    expect(metrics).toMatch(/^anteroom_upgrades_refused_total\{reason="max_connections"\} 3$/m);
    for (const client of clients) await client.close();
    await expectNothingCounted(live.server);
  });

  it('limits each address; X-Forwarded-For is ignored unless the proxy is trusted', async () => {
    live = await startServer(['--max-connections-per-ip', '2']);
    await openClient(live.url, { 'X-Forwarded-For': '203.0.113.1' });
    await openClient(live.url, { 'X-Forwarded-For': '203.0.113.2' });
    // Both came from 127.0.0.1 as far as an untrusting server knows.
    expect(await upgradeStatus(live.url, { 'X-Forwarded-For': '203.0.113.3' })).toBe(503);
    expect(live.server.gate.openFrom('127.0.0.1')).toBe(2);
    expect(await live.server.metrics.render()).toMatch(/^anteroom_upgrades_refused_total\{reason="max_connections_per_ip"\} 1$/m);
  });

  it('behind --trust-proxy counts the address the proxy appended, whatever the client put before it', async () => {
    live = await startServer(['--max-connections-per-ip', '2', '--trust-proxy']);
    await openClient(live.url, { 'X-Forwarded-For': '198.51.100.7' });
    await openClient(live.url, { 'X-Forwarded-For': '10.1.1.1, 198.51.100.7' });
    // A spoofed first entry does not make a third connection from 198.51.100.7 look new.
    expect(await upgradeStatus(live.url, { 'X-Forwarded-For': '192.0.2.99, 198.51.100.7' })).toBe(503);
    // Another client address is counted on its own.
    const other = await openClient(live.url, { 'X-Forwarded-For': '198.51.100.8' });
    expect(other.lastStatus?.type).toBe('status');
    expect(live.server.gate.openFrom('198.51.100.7')).toBe(2);
    expect(live.server.gate.openFrom('198.51.100.8')).toBe(1);
    // A header that is not an address falls back to the socket's address.
    await openClient(live.url, { 'X-Forwarded-For': 'not-an-address' });
    expect(live.server.gate.openFrom('127.0.0.1')).toBe(1);

    for (const client of clients) await client.close();
    await expectNothingCounted(live.server);
  });

  it('gives every count back under churn: closes, terminations and refusals racing each other', async () => {
    live = await startServer(['--max-connections', '20', '--max-connections-per-ip', '15', '--capacity', '3']);
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      // Places held from earlier rounds' vanished clients still count toward this address's limit.
      const heldBefore = (await getJson(`${live.httpUrl}/api/rooms/main`)).held as number;
      // More attempts than the per-IP limit allows, all at once; some are refused, none may leak.
      const attempts = Array.from({ length: 25 }, () => new TestClient(live!.url));
      const outcomes = await Promise.allSettled(attempts.map((client) => client.opened));
      const opened = attempts.filter((_, i) => outcomes[i]!.status === 'fulfilled');
      expect(opened.length).toBe(Math.max(0, 15 - heldBefore));
      const rooms = await getJson(`${live.httpUrl}/api/rooms/main`);
      // The held places are in the line but belong to no socket.
      expect(rooms.active + rooms.queued - rooms.held).toBe(opened.length);
      expect(rooms.active).toBeLessThanOrEqual(3);
      // Half leave politely, half vanish.
      opened.forEach((client, i) => (i % 2 === 0 ? client.close() : client.terminate()));
      await Promise.all(attempts.map((client) => client.closed));
      await expectNothingCounted(live.server);
    }
    // Vanished queued clients hold places for the resume window; none of them holds a seat.
    const rooms = await getJson(`${live.httpUrl}/api/rooms/main`);
    expect(rooms.active).toBe(0);
    expect(rooms.queued).toBe(rooms.held);
    expect(await getJson(`${live.httpUrl}/healthz`)).toEqual({ ok: true });
  });
});

describe('places held for a resume', () => {
  it('count toward the address that dropped them, so one address cannot fill the line with held places', async () => {
    // Behind a proxy (--trust-proxy), the address is the X-Forwarded-For entry the proxy appended.
    const live = await startServer(['--capacity', '1', '--max-queue', '20', '--max-connections-per-ip', '5', '--trust-proxy']);
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    await TestClient.placed(live.url, from('10.0.0.9'));
    let refused = 0;
    for (let i = 0; i < 8; i++) {
      const dropper = new TestClient(live.url, from('10.0.0.1'));
      const outcome = await Promise.race([dropper.next((m) => m.type === 'status').then(() => 'placed'), dropper.closed.then(() => 'closed')]).catch(() => 'refused');
      if (outcome !== 'placed') {
        refused++;
        continue;
      }
      dropper.terminate();
      await dropper.closed;
      await waitFor('the dropped place held', async () => (await getJson(`${live.httpUrl}/api/rooms/main`)).held === i + 1 - refused);
    }
    // Five places from 10.0.0.1 (held), then every further upgrade from it is refused; the line is not full.
    expect(refused).toBe(3);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ held: 5, queued: 5 });
    const newcomer = await TestClient.placed(live.url, from('10.0.0.2'));
    expect(newcomer.lastStatus).toMatchObject({ status: 'queued', position: 6 });
  });
});
