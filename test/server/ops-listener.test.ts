import { get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { rawHandshake, waitFor } from './hardening/raw-websocket.js';

afterEach(closeAll);

function opsUrl(live: LiveServer): string {
  const address = live.server.ops!.address();
  if (typeof address !== 'object' || address === null) throw new Error('no ops listener');
  return `http://127.0.0.1:${address.port}`;
}

const status = async (url: string) => (await fetch(url)).status;

/** Opens an event stream from `from` (a loopback address); resolves once it is answered. */
function openStream(httpUrl: string, from: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = get(`${httpUrl}/api/events/stream`, { agent: false, localAddress: from }, resolve);
    request.on('error', reject);
  });
}

describe('the operators\' endpoints', () => {
  it('with --ops-port are served on their own listener and nowhere near the waiting room', async () => {
    const live = await startServer(['--ops-port', '0']);
    const ops = opsUrl(live);
    for (const path of ['/dashboard', '/metrics', '/api/rooms', '/api/rooms/main', '/api/events', '/api/events/stream', '/assets/dashboard.js']) {
      expect(await status(`${live.httpUrl}${path}`), `public ${path}`).toBe(404);
    }
    for (const path of ['/dashboard', '/metrics', '/api/rooms', '/api/rooms/main', '/api/events', '/healthz', '/readyz']) {
      expect(await status(`${ops}${path}`), `ops ${path}`).toBe(200);
    }
    for (const path of ['/', '/assets/waiting-page.js', '/assets/pages.css', '/healthz', '/readyz', '/.well-known/jwks.json']) {
      expect(await status(`${live.httpUrl}${path}`), `public ${path}`).toBe(200);
    }
    expect(await status(`${ops}/`)).toBe(404);
    expect((await rawHandshake(ops.replace('http', 'ws'))).status).toBe(404);
    const client = await TestClient.placed(live.url);
    expect(client.lastStatus?.status).toBe('active');
  });

  it('cap event streams in total (503) and per address (429), and take new ones once streams end', async () => {
    const live = await startServer(['--max-event-streams', '6']);
    const open: IncomingMessage[] = [];
    for (let i = 0; i < 4; i++) open.push(await openStream(live.httpUrl, '127.0.0.2'));
    expect(open.map((response) => response.statusCode)).toEqual([200, 200, 200, 200]);
    const fifth = await openStream(live.httpUrl, '127.0.0.2');
    expect(fifth.statusCode).toBe(429);
    expect(fifth.headers['retry-after']).toBe('5');
    for (let i = 0; i < 2; i++) open.push(await openStream(live.httpUrl, '127.0.0.3'));
    const full = await openStream(live.httpUrl, '127.0.0.4');
    expect(full.statusCode).toBe(503);
    for (const response of open) response.destroy();
    await waitFor('the streams to end', async () => (await openStream(live.httpUrl, '127.0.0.4').then((r) => (r.destroy(), r.statusCode))) === 200);
  });

  it('answer at most 1,000 event records a page, and 429 to an address that keeps asking', async () => {
    const live = await startServer();
    expect(await status(`${live.httpUrl}/api/events?after=0&limit=10000`)).toBe(400);
    const page = await (await fetch(`${live.httpUrl}/api/events?after=0&limit=1000`)).json();
    expect(page.events.length).toBeGreaterThan(0);
    // Far more at once than the burst the address may spend (40).
    const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${live.httpUrl}/api/events?after=0`)));
    const refused = answers.filter((response) => response.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Room counts and health stay cheap and are never refused.
    expect(await status(`${live.httpUrl}/api/rooms`)).toBe(200);
    expect(await status(`${live.httpUrl}/healthz`)).toBe(200);
  });
});
