import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { replay } from '../../src/log/replay.js';
import { closeAll, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const ticketSecret = 'a-join-ticket-secret-of-32-chars!';
const key = new TextEncoder().encode(ticketSecret);

function ticket(claims: Record<string, unknown>, expiresIn: string | number = '5m', secret = key): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expiresIn).sign(secret);
}

async function saleRoom(): Promise<LiveServer> {
  const room = { ...defaultRoomSettings, name: 'sale', capacity: 1, heartbeatTimeoutMs: 60_000, heartbeatIntervalMs: 1000, ticketSecret };
  live = await startServer([], {}, { rooms: [room, { ...defaultRoomSettings, name: 'main' }] });
  return live;
}

/** Status of an upgrade that carries `query`: 101 when a WebSocket opened, else the HTTP refusal. */
async function upgradeStatus(path: string): Promise<number> {
  const client = new TestClient(`${live!.url}${path}`);
  return client.opened.then(
    () => 101,
    (error: Error) => Number(/Unexpected server response: (\d+)/.exec(error.message)?.[1] ?? 0),
  );
}

describe('priority join tickets at the upgrade', () => {
  it('refuses a bad, expired, foreign-room or out-of-range ticket with HTTP 401, and any ticket to a room without a key', async () => {
    await saleRoom();
    const now = Math.floor(Date.now() / 1000);
    const refused = [
      'not-a-jwt',
      await ticket({ room: 'sale', priority: 1 }, now - 10),
      await ticket({ room: 'main', priority: 1 }),
      await ticket({ room: 'sale', priority: 64 }),
      await ticket({ room: 'sale', priority: -1 }),
      await ticket({ room: 'sale' }, '5m', new TextEncoder().encode('another-secret-another-secret-xx')),
      await new SignJWT({ room: 'sale' }).setProtectedHeader({ alg: 'HS256' }).sign(key),
    ];
    for (const token of refused) expect(await upgradeStatus(`/rooms/sale?ticket=${encodeURIComponent(token)}`), token).toBe(401);
    expect(await upgradeStatus(`/?ticket=${await ticket({ room: 'main' })}`)).toBe(401);
    expect(await upgradeStatus(`/rooms/sale?ticket=${await ticket({ room: 'sale', priority: 2, sub: 'fan-1' })}`)).toBe(101);
    expect(await upgradeStatus('/rooms/sale')).toBe(101);
  });

  it('serves higher priority first, FIFO within it; positions behind grow and stay exact', async () => {
    await saleRoom();
    const url = `${live!.url}/rooms/sale`;
    const seated = await TestClient.placed(url);
    const plain1 = await TestClient.placed(url);
    const plain2 = await TestClient.placed(url);
    expect(plain2.lastStatus).toMatchObject({ position: 2 });
    const vip1 = await TestClient.placed(`${url}?ticket=${await ticket({ room: 'sale', priority: 5 })}`);
    expect(vip1.lastStatus).toMatchObject({ status: 'queued', position: 1, queueLength: 3 });
    const vip2 = await TestClient.placed(`${url}?ticket=${await ticket({ room: 'sale', priority: 5 })}`);
    expect(vip2.lastStatus).toMatchObject({ position: 2, queueLength: 4 });
    await plain1.until((s) => s.position === 3);
    await plain2.until((s) => s.position === 4);
    seated.send({ type: 'leave' });
    await vip1.until((s) => s.status === 'active');
    await vip2.until((s) => s.position === 1);
    await plain1.until((s) => s.position === 2);
    const records = live!.server.log.since(0, 10_000);
    expect(records.filter((r) => r.kind === 'connected' && (r.data as { priority?: number }).priority === 5)).toHaveLength(2);
    expect(JSON.stringify(records)).not.toContain(ticketSecret);
    expect(replay(records)).toMatchObject({ ok: true });
  });

  it('a resumed place keeps its priority, and says so, without the ticket', async () => {
    await saleRoom();
    const url = `${live!.url}/rooms/sale`;
    await TestClient.placed(url);
    const vip = await TestClient.placed(`${url}?ticket=${await ticket({ room: 'sale', priority: 4 })}`);
    expect(vip.lastStatus).toMatchObject({ status: 'queued', position: 1, priority: 4 });
    const { resumeToken, session } = vip.lastStatus!;
    vip.terminate();
    await TestClient.placed(url);
    const back = await TestClient.placed(`${url}?resume=${encodeURIComponent(resumeToken)}`);
    expect(back.lastStatus).toMatchObject({ status: 'queued', session, position: 1, priority: 4 });
  });
});
