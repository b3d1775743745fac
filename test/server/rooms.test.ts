import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, startServer, TestClient } from '../support/live-server.js';

const dir = mkdtempSync(join(tmpdir(), 'anteroom-rooms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(closeAll);

function roomsFile(rooms: unknown[]): string {
  const path = join(dir, `rooms-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ rooms }));
  return path;
}

describe('several rooms from --config', () => {
  it('keeps each room its own seats and line, each at /rooms/<name>', async () => {
    const live = await startServer(['--config', roomsFile([{ name: 'main', capacity: 1 }, { name: 'presale', capacity: 2, maxQueue: 1 }])]);
    const inMain = [await TestClient.placed(live.url), await TestClient.placed(`${live.url}/rooms/main`)];
    const inPresale = [];
    for (let i = 0; i < 3; i++) inPresale.push(await TestClient.placed(`${live.url}/rooms/presale`));
    expect(inMain.map((c) => c.lastStatus!.status)).toEqual(['active', 'queued']);
    expect(inPresale.map((c) => c.lastStatus!.status)).toEqual(['active', 'active', 'queued']);
    expect(inPresale[2]!.lastStatus!.position).toBe(1);
    // maxQueue 1: the next arrival in presale is turned away, main is unaffected.
    const tooMany = new TestClient(`${live.url}/rooms/presale`);
    expect((await tooMany.closed).code).toBe(4003);
    const { rooms } = await getJson(`${live.httpUrl}/api/rooms`);
    expect(rooms).toEqual([
      expect.objectContaining({ name: 'main', capacity: 1, active: 1, queued: 1 }),
      expect.objectContaining({ name: 'presale', capacity: 2, active: 2, queued: 1, maxQueue: 1 }),
    ]);
    // A leave in one room promotes only in that room.
    inPresale[0]!.send({ type: 'leave' });
    await inPresale[2]!.until((s) => s.status === 'active', 1000);
    expect(inMain[1]!.lastStatus).toMatchObject({ status: 'queued', position: 1 });
  });

  it('closes / with 4004 when the file has no room named main', async () => {
    const live = await startServer(['--config', roomsFile([{ name: 'launch' }])]);
    const atRoot = new TestClient(live.url);
    expect((await atRoot.closed).code).toBe(4004);
    expect((await TestClient.placed(`${live.url}/rooms/launch`)).lastStatus!.status).toBe('active');
  });
});
