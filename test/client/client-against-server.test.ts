import { afterEach, describe, expect, it } from 'vitest';
import { createNodeClient, type WaitingRoomClient } from '../../src/client/node.js';
import { getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;
const clients: WaitingRoomClient[] = [];
const raw: TestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const client of raw.splice(0)) client.terminate();
  await live?.close();
  live = undefined;
});

function client(): WaitingRoomClient {
  const c = createNodeClient({ url: live!.url, backoff: { baseMs: 20, capMs: 100 } });
  clients.push(c);
  return c;
}

const once = <T>(c: WaitingRoomClient, event: 'admitted' | 'position' | 'evicted', predicate: (value: any) => boolean = () => true) =>
  new Promise<T>((resolve) => {
    const listener = (value: any) => {
      if (!predicate(value)) return;
      c.off(event, listener);
      resolve(value);
    };
    c.on(event, listener);
  });

describe('the client library against a real anteroom server', () => {
  it('waits in line, is admitted with a token, and keeps its seat by pinging at the announced interval', async () => {
    live = await startServer(['--capacity', '1', '--heartbeat-timeout', '600', '--heartbeat-interval', '200']);
    const seated = await TestClient.open(live.url);
    raw.push(seated);
    await seated.next((m) => m.type === 'status');
    const c = client();
    const position = once<{ position: number }>(c, 'position');
    c.connect();
    expect((await position).position).toBe(1);
    const admitted = once<{ token: string }>(c, 'admitted');
    seated.send({ type: 'leave' });
    expect((await admitted).token.split('.')).toHaveLength(3);
    expect(c.state).toBe('active');
    // Three heartbeat timeouts later it is still seated, because it pings every 200 ms.
    await new Promise((r) => setTimeout(r, 1800));
    expect(c.state).toBe('active');
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 0 });
  });

  it('reconnects after its socket is cut and resumes the same place', async () => {
    live = await startServer(['--capacity', '1']);
    const seated = await TestClient.open(live.url);
    raw.push(seated);
    await seated.next((m) => m.type === 'status');
    const first = client();
    first.connect();
    await once(first, 'position');
    const second = client();
    second.connect();
    await once(second, 'position', (p) => p.position === 2);
    const session = first.session;
    // Cut the first client's socket from the server side: to the client this is a 1006 drop.
    const server = live.server;
    const conn = [...server.clients.values()].find((c) => c.session === session)!;
    const positions: (number | null)[] = [];
    first.on('position', ({ position }) => positions.push(position));
    const back = once<{ position: number }>(first, 'position');
    conn.ws.terminate();
    expect((await back).position).toBe(1);
    // The fresh tail place the reconnect got before its resume was answered is never shown.
    await new Promise((r) => setTimeout(r, 100));
    expect(positions).toEqual([1]);
    expect(first.session).toBe(session);
    expect(second.position).toBe(2);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ queued: 2, held: 0 });
  });

  it('is told why it was evicted and does not reconnect', async () => {
    live = await startServer(['--capacity', '1', '--admin-token', 'secret-admin-token']);
    const c = client();
    c.connect();
    const admitted = once<{ token: string }>(c, 'admitted');
    await admitted;
    const evicted = once<{ reason: string }>(c, 'evicted');
    const response = await fetch(`${live.httpUrl}/api/rooms/main/kick`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ session: c.session }),
    });
    expect(response.status).toBe(200);
    expect((await evicted).reason).toBe('kicked');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.state).toBe('closed');
    expect(live.server.clients.size).toBe(0);
  });
});
