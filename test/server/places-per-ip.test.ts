import { afterEach, describe, expect, it } from 'vitest';
import { PlacesPerIp } from '../../src/server/places-per-ip.js';
import { closeAll, getJson, startServer, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

afterEach(closeAll);

describe('PlacesPerIp', () => {
  it('counts places per address up to the limit, and 0 means no limit', () => {
    const places = new PlacesPerIp();
    expect([places.take('a', 2), places.take('a', 2), places.take('a', 2), places.take('b', 2)]).toEqual([true, true, false, true]);
    places.release('a');
    expect(places.take('a', 2)).toBe(true);
    for (let i = 0; i < 100; i++) expect(places.take('c', 0)).toBe(true);
  });
});

describe('maxPlacesPerIp over the wire', () => {
  it('closes the connection over the limit with 4029 before placing it; a freed place lets the address in again', async () => {
    const live = await startServer(['--capacity', '1', '--max-places-per-ip', '2', '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
    const first = await TestClient.placed(live.url);
    await TestClient.placed(live.url);
    const third = await TestClient.open(live.url);
    expect((await third.closed).code).toBe(4029);
    expect(third.messages).toEqual([]);
    expect(live.server.log.since(0, 1000).filter((r) => r.kind === 'connected')).toHaveLength(2);
    first.send({ type: 'leave' });
    await first.closed;
    // The second now holds the seat; the address's second place is the new one, in line.
    const fourth = await TestClient.placed(live.url);
    expect(fourth.lastStatus).toMatchObject({ status: 'queued', position: 1 });
  });
});

describe('maxPlacesPerIp and places held for a resume', () => {
  it('counts a place held for a dropped connection, so dropping and reconnecting cannot fill the line', async () => {
    const live = await startServer(['--capacity', '1', '--max-places-per-ip', '3', '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
    await TestClient.placed(live.url);
    for (let i = 0; i < 2; i++) {
      const dropper = await TestClient.placed(live.url);
      dropper.terminate();
      await dropper.closed;
    }
    await waitFor('two places held', async () => (await getJson(`${live.httpUrl}/api/rooms/main`)).held === 2);
    // One seat, two held places: the address has its three.
    const fourth = await TestClient.open(live.url);
    expect((await fourth.closed).code).toBe(4029);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ queued: 2, held: 2 });
  });
});
