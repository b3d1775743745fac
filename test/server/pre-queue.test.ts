import { afterEach, describe, expect, it } from 'vitest';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { replay } from '../../src/log/replay.js';
import { closeAll, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const adminToken = 'an-admin-token-for-tests';

async function scheduledRoom(opensInMs: number): Promise<number> {
  const opensAt = Date.now() + opensInMs;
  const room = { ...defaultRoomSettings, name: 'main', capacity: 1, heartbeatTimeoutMs: 60_000, heartbeatIntervalMs: 1000, opensAt };
  live = await startServer(['--admin-token', adminToken], {}, { rooms: [room] });
  return opensAt;
}

describe('pre-queue over the wire', () => {
  it('before opensAt arrivals wait without a position; at opensAt they are drawn ahead of later arrivals', async () => {
    const opensAt = await scheduledRoom(600);
    const early = [await TestClient.placed(live!.url), await TestClient.placed(live!.url), await TestClient.placed(live!.url)];
    for (const client of early) {
      expect(client.lastStatus).toMatchObject({ status: 'queued', position: null, preQueue: true, opensAt, roomStatus: 'scheduled' });
    }
    await early[0]!.next((m) => m.type === 'room' && m.status === 'open', 10_000);
    const late = await TestClient.placed(live!.url);
    expect(late.lastStatus).toMatchObject({ status: 'queued', position: 3, roomStatus: 'open' });
    expect(late.lastStatus).not.toHaveProperty('preQueue');
    // One of the early ones has the seat; the other two hold places 1 and 2, in the drawn order.
    const seen = await Promise.all(early.map((c) => c.until((s) => s.status === 'active' || typeof s.position === 'number')));
    expect(seen.map((s) => (s.status === 'active' ? 0 : s.position)).sort()).toEqual([0, 1, 2]);
    const records = live!.server.log.since(0, 10_000);
    const draw = records.find((r) => r.kind === 'config' && r.data.type === 'draw');
    expect(draw?.data).toMatchObject({ drawSeed: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(draw!.at).toBeGreaterThanOrEqual(opensAt);
    expect(replay(records)).toMatchObject({ ok: true });
  });

  it('an operator may open the room early; the pre-queue is still drawn', async () => {
    await scheduledRoom(60_000);
    const early = [await TestClient.placed(live!.url), await TestClient.placed(live!.url)];
    const response = await fetch(`${live!.httpUrl}/api/rooms/main`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'open' }),
    });
    expect(await response.json()).toMatchObject({ status: 'open' });
    await Promise.all(early.map((c) => c.until((s) => s.status === 'active' || s.position === 1)));
    const kinds = live!.server.log.since(0, 10_000).map((r) => r.kind);
    expect(kinds.indexOf('drawn')).toBeLessThan(kinds.indexOf('admitted'));
  });
});
