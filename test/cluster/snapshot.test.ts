import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { Cluster } from './support/cluster-harness.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('room snapshots in the stream', () => {
  it('a node that starts later goes on from the last snapshot plus the tail, and agrees on every position', async () => {
    cluster = await Cluster.start(1, ['--capacity', '2', '--snapshot-records', '4']);
    const first = cluster.nodes[0]!;
    const clients: TestClient[] = [];
    for (let i = 0; i < 9; i++) clients.push(await TestClient.placed(`${first.url}/`));
    await clients[0]!.close(1000);
    await clients[2]!.until((status) => status.status === 'active');

    const late = await cluster.addNode('n2', ['--log-level', 'info']);
    await waitFor('the late node agrees', async () => {
      const [a, b] = await Promise.all([getJson(`${first.httpUrl}/api/rooms/main`), getJson(`${late.httpUrl}/api/rooms/main`)]);
      return a.active === 2 && b.active === 2 && a.queued === 6 && b.queued === 6;
    }, 10_000);
    expect(late.output()).toContain('replica starts from snapshot');
    // Its own visitors get exact places behind everyone, and it promotes them in turn.
    const newcomer = await TestClient.placed(`${late.url}/`);
    expect(newcomer.lastStatus).toMatchObject({ status: 'queued', position: 7 });
    await clients[1]!.close(1000);
    await clients[3]!.until((status) => status.status === 'active');
    await newcomer.until((status) => status.position === 6, 10_000);
  }, 40_000);
});
