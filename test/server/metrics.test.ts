import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

/** The clients a test opened, whose messages it counts. */
const clients: TestClient[] = [];

afterEach(async () => {
  clients.length = 0;
  await closeAll();
});

async function openClient(url: string): Promise<TestClient> {
  const client = await TestClient.placed(url);
  clients.push(client);
  return client;
}

/** Series name with labels → value, from the Prometheus text format. */
async function scrape(live: LiveServer): Promise<{ contentType: string | null; values: Map<string, number>; text: string }> {
  const response = await fetch(`${live.httpUrl}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return { contentType: response.headers.get('content-type'), values, text };
}

const adminToken = 'metrics-test-admin';

function kick(live: LiveServer, session: string): Promise<Response> {
  return fetch(`${live.httpUrl}/api/rooms/main/kick`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session }),
  });
}

describe('GET /metrics', () => {
  it('reports connections, room gauges, decisions, errors, traffic and promotion latency', async () => {
    const live = await startServer(['--capacity', '1', '--admin-token', adminToken, '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
    const first = await openClient(live.url);
    const second = await openClient(live.url);
    const third = await openClient(live.url);

    // Two promotions: one after a kick, one after a polite leave.
    expect((await kick(live, first.lastStatus!.session)).status).toBe(200);
    await second.until((s) => s.status === 'active');
    second.send({ type: 'leave' });
    expect((await second.closed).code).toBe(1000);
    await third.until((s) => s.status === 'active');
    third.send('{not json');
    await third.next((m) => m.type === 'error');
    third.send({ type: 'ping' });
    await third.next((m) => m.type === 'pong');

    const { contentType, values, text } = await scrape(live);
    expect(contentType).toMatch(/^text\/plain/);
    expect(values.get('anteroom_connections_open')).toBe(1);
    expect(values.get('anteroom_handshakes_pending')).toBe(0);
    expect(values.get('anteroom_arrivals_waiting')).toBe(0);
    expect(values.get('anteroom_room_capacity{room="main"}')).toBe(1);
    expect(values.get('anteroom_room_active{room="main"}')).toBe(1);
    expect(values.get('anteroom_room_queued{room="main"}')).toBe(0);
    expect(values.get('anteroom_room_held{room="main"}')).toBe(0);
    expect(values.get('anteroom_admissions_total{room="main"}')).toBe(3);
    expect(values.get('anteroom_evictions_total{room="main",reason="kicked"}')).toBe(1);
    expect(values.get('anteroom_releases_total{room="main",reason="left"}')).toBe(1);
    expect(values.get('anteroom_connections_closed_total{room="main",code="1000"}')).toBe(1);
    expect(values.get('anteroom_connections_closed_total{room="main",code="4008"}')).toBe(1);
    expect(values.get('anteroom_errors_total{code="bad_json"}')).toBe(1);
    expect(values.get('anteroom_messages_received_total{room="main",type="invalid"}')).toBe(1);
    expect(values.get('anteroom_messages_received_total{room="main",type="leave"}')).toBe(1);
    expect(values.get('anteroom_messages_received_total{room="main",type="ping"}')).toBe(1);
    expect(values.get('anteroom_messages_sent_total{type="pong"}')).toBe(1);
    expect(values.get('anteroom_messages_sent_total{type="evicted"}')).toBe(1);
    // Statuses: three placements, two queue moves seen by the third client, two promotions.
    expect(values.get('anteroom_messages_sent_total{type="status"}')).toBe(
      clients.reduce((sum, client) => sum + client.messages.filter((m) => m.type === 'status').length, 0),
    );
    expect(values.get('anteroom_promotion_latency_seconds_count{room="main"}')).toBe(2);
    expect(values.get('anteroom_promotion_latency_seconds_sum{room="main"}')).toBeGreaterThan(0);
    // The first client walked into a free seat: that is not a promotion.
    expect(values.get('anteroom_promotion_latency_seconds_bucket{le="+Inf",room="main"}')).toBe(2);

    // Node process metrics, event-loop lag among them.
    const processMetrics = [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'process_cpu_user_seconds_total',
    ];
    for (const name of processMetrics) {
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });

  it('does not count the scrape itself as a pending handshake', async () => {
    const live = await startServer();
    // Each scrape arrives on a connection that has sent its whole request: it is no longer mid-handshake.
    for (let i = 0; i < 2; i++) expect((await scrape(live)).values.get('anteroom_handshakes_pending')).toBe(0);
  });

  it('keeps one registry per server, so two servers in a process count apart', async () => {
    const busy = await startServer(['--capacity', '1']);
    const idle = await startServer(['--capacity', '4']);
    await openClient(busy.url);
    await openClient(busy.url);
    const [busyMetrics, idleMetrics] = await Promise.all([scrape(busy), scrape(idle)]);
    expect(busyMetrics.values.get('anteroom_connections_open')).toBe(2);
    expect(busyMetrics.values.get('anteroom_admissions_total{room="main"}')).toBe(1);
    expect(busyMetrics.values.get('anteroom_room_queued{room="main"}')).toBe(1);
    expect(idleMetrics.values.get('anteroom_connections_open')).toBe(0);
    expect(idleMetrics.values.has('anteroom_admissions_total{room="main"}')).toBe(false);
    expect(idleMetrics.values.get('anteroom_room_capacity{room="main"}')).toBe(4);
  });
});

describe('GET /readyz', () => {
  it('answers 200 while serving and 503 once shutdown has begun', async () => {
    const live = await startServer(['--capacity', '1']);
    expect((await fetch(`${live.httpUrl}/readyz`)).status).toBe(200);

    // A client that never answers the close frame keeps shutdown in its grace period.
    const lingering = connect(Number(new URL(live.url).port), '127.0.0.1');
    lingering.on('error', () => {});
    const upgrade = ['GET / HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
    lingering.write(`${upgrade.join('\r\n')}\r\n\r\n`);
    await new Promise<void>((resolve) => lingering.once('data', () => resolve()));

    // A keep-alive connection with a request under way survives the listener closing; its answer is 503.
    const probe = connect(Number(new URL(live.url).port), '127.0.0.1');
    let answer = '';
    probe.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    probe.on('error', () => {});
    probe.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the health answer', () => answer.includes('"ok":true'));
    answer = '';
    probe.write('GET /readyz HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));

    const closing = live.close();
    expect(live.server.shuttingDown).toBe(true);
    probe.write('\r\n');
    await waitFor('the readiness answer', () => answer.includes('\r\n\r\n{'));
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toContain('"ready":false');
    lingering.destroy();
    probe.destroy();
    await closing;
  });
});
