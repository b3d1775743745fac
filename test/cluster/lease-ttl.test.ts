import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { Cluster, killChild, ownerOf } from './support/cluster-harness.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('--lease-ttl across runs and nodes', () => {
  it('a cluster restarted with another lease TTL uses it (no healthy node taken for dead); a node with a TTL unlike the live ones refuses to start', async () => {
    cluster = await Cluster.start(0);
    // An earlier run of the cluster with the shortest TTL, stopped.
    await killChild((await cluster.addNode('n0', ['--lease-ttl', '300'])).child, 'SIGTERM');
    const [a, b] = await Promise.all([cluster.addNode('n1', ['--lease-ttl', '2000']), cluster.addNode('n2', ['--lease-ttl', '2000'])]);
    const owner = await ownerOf(a);
    const other = owner === 'n1' ? b : a;
    const visitor = await TestClient.placed(`${other.url}/`);
    expect(visitor.lastStatus?.status).toBe('active');
    // Presence written every 667 ms must not expire after the old 300 ms: n1 and n2 stay alive, the visitor seated.
    const deadline = Date.now() + 2500;
    while (Date.now() < deadline) {
      expect((await getJson(`${a.httpUrl}/api/cluster`)).nodes.map((node: { id: string }) => node.id)).toEqual(['n1', 'n2']);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(visitor.messages.some((message) => message.type === 'evicted')).toBe(false);
    expect((await getJson(`${a.httpUrl}/api/rooms/main`)).active).toBe(1);

    await expect(cluster.addNode('n3', ['--lease-ttl', '1000'])).rejects.toThrow(/exited with 2[\s\S]*--lease-ttl 1000[\s\S]*2000 ms/);
  }, 30_000);
});
