import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { replayCommand } from '../../src/cli/replay-command.js';
import { captureOutput } from '../support/capture-output.js';
import { Cluster } from './support/cluster-harness.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('nodes started with different rooms files', () => {
  it('every replica and every later owner keep the settings the room opened with: a failover does not raise capacity', async () => {
    cluster = await Cluster.start(0, ['--lease-ttl', '1000']);
    const first = await cluster.addNode('n1', ['--capacity', '2']);
    await waitFor('n1 owns main', async () => (await getJson(`${first.httpUrl}/api/rooms/main`)).owner === 'n1', 10_000);
    await TestClient.placed(`${first.url}/`);
    const second = await cluster.addNode('n2', ['--capacity', '4']);
    await waitFor('n2 replicates main', async () => (await getJson(`${second.httpUrl}/api/rooms/main`)).active === 1, 10_000);
    expect((await getJson(`${second.httpUrl}/api/rooms/main`)).capacity).toBe(2);

    await cluster.kill('n1');
    await waitFor('n2 owns main', async () => (await getJson(`${second.httpUrl}/api/rooms/main`)).owner === 'n2', 10_000);
    const clients: TestClient[] = [];
    for (let i = 0; i < 4; i++) clients.push(await TestClient.placed(`${second.url}/`));
    // One seat is held for n1's visitor: one more is seated, the rest wait.
    expect(clients.map((client) => client.lastStatus?.status)).toEqual(['active', 'queued', 'queued', 'queued']);
    const room = await getJson(`${second.httpUrl}/api/rooms/main`);
    expect(room.active).toBeLessThanOrEqual(2);
    expect(room.capacity).toBe(2);

    const { out, text } = captureOutput();
    expect(await replayCommand(['--nats', cluster.nats.url, '--room', 'main'], out)).toBe(0);
    expect(text()).toMatch(/2 seated/);
  }, 30_000);
});
