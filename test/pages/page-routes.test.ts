import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { browserClientBundle } from '../../src/pages/client-bundle.js';
import { RoomActivity } from '../../src/pages/room-activity.js';
import { startServer, TestClient, type LiveServer } from '../support/live-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(flags: string[] = []): Promise<LiveServer> {
  const live = await startServer(flags);
  cleanups.push(() => live.close());
  return live;
}

async function open(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  cleanups.push(async () => {
    await client.close();
  });
  return client;
}

/** Reads server-sent events from a stream until `done` says stop. */
async function readEvents(url: string, done: (events: { event: string; data: any }[]) => boolean): Promise<{ event: string; data: any }[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: { event: string; data: any }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const timeout = setTimeout(() => controller.abort(), 5000);
  const reader = response.body!.getReader();
  try {
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      if (done(events)) break;
    }
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
  return events;
}

describe('pages', () => {
  it('serves the waiting page with its settings and a strict content policy', async () => {
    const live = await serve(['--target-url', 'https://shop.example/enter']);
    const response = await fetch(`${live.httpUrl}/?room=main`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="application/json" id="anteroom-config">{"targetUrl":"https://shop.example/enter"}</script>');
    expect(html).toContain('aria-live="polite"');
    expect(html).toContain('<script type="module" src="/assets/waiting-page.js"></script>');
    for (const asset of ['/assets/waiting-page.js', '/assets/dashboard.js', '/assets/pages.css', '/dashboard']) {
      expect((await fetch(`${live.httpUrl}${asset}`)).status, asset).toBe(200);
    }
    expect((await fetch(`${live.httpUrl}/assets/nothing.js`)).status).toBe(404);
  });

  it('tells a page whether its origin may connect: its own always, others only when listed', async () => {
    const live = await serve(['--allowed-origins', 'https://tickets.example.com']);
    const check = async (origin: string) => {
      const response = await fetch(`${live.httpUrl}/api/connect-check`, { method: 'POST', headers: { origin } });
      return { status: response.status, body: await response.json() };
    };
    expect(await check(new URL(live.httpUrl).origin)).toEqual({ status: 200, body: { allowed: true } });
    expect(await check('https://tickets.example.com')).toEqual({ status: 200, body: { allowed: true } });
    expect(await check('https://proxy.example')).toMatchObject({ status: 403, body: { allowed: false, origin: 'https://proxy.example' } });
  });

  it('serves the client library bundled for browsers, and the bundle joins a room', async () => {
    const live = await serve(['--capacity', '1']);
    const response = await fetch(`${live.httpUrl}/assets/client.js`);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await response.text();
    expect(source).toBe(await browserClientBundle());
    expect(source).not.toMatch(/\bfrom\s*["']/); // one self-contained module, no imports left

    const bundle = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
    const client = new bundle.WaitingRoomClient({ url: live.url, WebSocket });
    cleanups.push(() => client.close());
    const admitted = new Promise((resolve) => client.on('admitted', resolve));
    client.connect();
    expect(await admitted).toMatchObject({ session: expect.any(String), token: expect.any(String) });
  });

  it('streams a snapshot, then live records and room counts to the dashboard', async () => {
    const live = await serve(['--capacity', '1']);
    const streamed = readEvents(`${live.httpUrl}/api/events/stream`, (events) =>
      events.some((e) => e.event === 'rooms' && e.data.rooms[0].queued === 1) &&
      events.some((e) => e.event === 'records' && e.data.records.some((r: { kind: string }) => r.kind === 'queued')),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = await open(live.url);
    await first.next((m) => m.type === 'status' && m.status === 'active');
    const second = await open(live.url);
    await second.next((m) => m.type === 'status' && m.status === 'queued');

    const events = await streamed;
    const snapshot = events[0]!;
    expect(snapshot.event).toBe('snapshot');
    expect(snapshot.data.rooms).toEqual([expect.objectContaining({ name: 'main', capacity: 1, admissionsPerMinute: 0 })]);
    expect(snapshot.data.recent[0].kind).toBe('room.opened');
    expect(snapshot.data.history.main.length).toBeGreaterThan(0);
    const kinds = events.filter((e) => e.event === 'records').flatMap((e) => e.data.records.map((r: { kind: string }) => r.kind));
    expect(kinds).toEqual(expect.arrayContaining(['connected', 'admitted', 'queued']));
    const rooms = events.filter((e) => e.event === 'rooms').at(-1)!;
    expect(rooms.data.rooms[0]).toMatchObject({ active: 1, queued: 1, admissionsPerMinute: 1, evictionsPerMinute: 0 });
  });
});

describe('RoomActivity', () => {
  it('counts admissions and evictions of the last minute and samples queue lengths', async () => {
    const live = await serve(['--capacity', '1']);
    let now = 1_000_000;
    const activity = new RoomActivity(live.server.log, live.server.rooms, { now: () => now, historyMs: 60_000 });
    cleanups.push(() => activity.stop());
    expect(activity.queueHistory().main).toEqual([[1_000_000, 0]]);
    const log = live.server.log;
    log.append('main', 'admitted', 'a', { session: 'sa', at: 0, ttlUntil: null });
    now += 30_000;
    log.append('main', 'admitted', 'b', { session: 'sb', at: 0, ttlUntil: null });
    log.append('main', 'evicted', 'b', { session: 'sb', from: 'seat', reason: 'kicked' });
    expect(activity.stats()[0]).toMatchObject({ admissionsPerMinute: 2, evictionsPerMinute: 1 });
    now += 31_000; // the first admission is now more than a minute old
    expect(activity.stats()[0]).toMatchObject({ admissionsPerMinute: 1, evictionsPerMinute: 1 });
    now += 60_000;
    expect(activity.stats()[0]).toMatchObject({ admissionsPerMinute: 0, evictionsPerMinute: 0 });
  });
});
