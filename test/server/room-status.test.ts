import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../../src/log/replay.js';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const adminToken = 'an-admin-token-for-tests';

function post(body: unknown): Promise<Response> {
  return fetch(`${live!.httpUrl}/api/rooms/main`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  });
}

async function line(count: number, flags: string[] = []): Promise<TestClient[]> {
  live = await startServer(['--capacity', '1', '--admin-token', adminToken, '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000', ...flags]);
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await TestClient.placed(live.url));
  return clients;
}

describe('room status and notice over the wire', () => {
  it('queued status carries roomStatus and notice; a change reaches every connection as a `room` message', async () => {
    const [seated, waiting] = await line(2);
    expect(waiting!.lastStatus).toMatchObject({ status: 'queued', roomStatus: 'open', notice: null });
    const answer = await post({ notice: 'Doors open at 20:00', status: 'paused' });
    expect(await answer.json()).toMatchObject({ status: 'paused', notice: 'Doors open at 20:00' });
    for (const client of [seated!, waiting!]) {
      await client.next((m) => m.type === 'room' && m.status === 'paused' && m.notice === 'Doors open at 20:00');
    }
    const late = await TestClient.placed(live!.url);
    expect(late.lastStatus).toMatchObject({ status: 'queued', position: 2, roomStatus: 'paused', notice: 'Doors open at 20:00' });
    expect(await getJson(`${live!.httpUrl}/api/rooms/main`)).toMatchObject({ status: 'paused', notice: 'Doors open at 20:00' });
  });

  it('maintenance closes seated sessions with evicted{maintenance} and 4007, keeps the line, and reopening admits it in order', async () => {
    const [seated, first, second] = await line(3);
    await post({ status: 'maintenance', notice: 'Back in ten minutes' });
    await seated!.next((m) => m.type === 'evicted' && m.reason === 'maintenance');
    expect((await seated!.closed).code).toBe(4007);
    await first!.next((m) => m.type === 'room' && m.status === 'maintenance' && m.notice === 'Back in ten minutes');
    const arrival = await TestClient.placed(live!.url);
    expect(arrival.lastStatus).toMatchObject({ status: 'queued', position: 3, roomStatus: 'maintenance' });
    expect(await getJson(`${live!.httpUrl}/api/rooms/main`)).toMatchObject({ status: 'maintenance', active: 0, queued: 3 });
    await post({ status: 'open' });
    await first!.until((s) => s.status === 'active');
    await second!.until((s) => s.position === 1);
    expect(replay(live!.server.log.since(0, 10_000))).toMatchObject({ ok: true });
  });

  it('closed can be undone: the room reopens and admits again', async () => {
    const [seated] = await line(1);
    await post({ status: 'closed' });
    expect((await seated!.closed).code).toBe(4006);
    const turnedAway = await TestClient.open(live!.url);
    expect((await turnedAway.closed).code).toBe(4006);
    await post({ status: 'open' });
    const welcome = await TestClient.placed(live!.url);
    expect(welcome.lastStatus).toMatchObject({ status: 'active' });
  });

  it('refuses a notice over 280 characters and an unknown status with 400', async () => {
    await line(0);
    expect((await post({ notice: 'x'.repeat(281) })).status).toBe(400);
    expect((await post({ status: 'scheduled' })).status).toBe(400);
    expect((await post({ admissionRate: -1 })).status).toBe(400);
    expect((await post({ notice: 'x'.repeat(280) })).status).toBe(200);
  });

  it('records each change as an operator input in the event log', async () => {
    await line(0);
    await post({ status: 'maintenance', notice: 'n', admissionRate: 4 });
    const inputs = live!.server.log.since(0, 10_000).filter((r) => r.kind === 'config').map((r) => r.data);
    expect(inputs).toEqual([
      { type: 'setAdmissionRate', admissionRate: 4 },
      { type: 'setNotice', notice: 'n' },
      { type: 'maintenance' },
    ]);
  });
});

describe('admission rate over the wire', () => {
  it('with free seats, admits at most the rate: 10 seats at 2 per second admit 2 at once and the rest over time', async () => {
    live = await startServer(['--capacity', '10', '--admission-rate', '2', '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
    const clients: TestClient[] = [];
    for (let i = 0; i < 4; i++) clients.push(await TestClient.placed(live.url));
    const statuses = clients.map((c) => c.lastStatus!.status);
    // Arrivals within the first half second: the bucket holds two admissions.
    expect(statuses.filter((s) => s === 'active').length).toBeLessThanOrEqual(3);
    expect(statuses[0]).toBe('active');
    const queued = clients.find((c) => c.lastStatus!.status === 'queued')!;
    // The wait estimate counts the rate: position / rate at the least.
    expect(queued.lastStatus!.etaMs).toBeGreaterThanOrEqual((queued.lastStatus!.position * 1000) / 2 - 1);
    for (const client of clients) await client.until((s) => s.status === 'active', 10_000);
    const admissions = live.server.log.since(0, 10_000).filter((r) => r.kind === 'admitted').map((r) => r.at);
    // Exact on the room's own clock: no second holds more than a full bucket plus its refill.
    for (const at of admissions) expect(admissions.filter((t) => t >= at && t < at + 1000).length).toBeLessThanOrEqual(4);
    expect(replay(live.server.log.since(0, 10_000))).toMatchObject({ ok: true });
  });
});
