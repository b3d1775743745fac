import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { Cluster, ownerOf, seatedCount } from './support/cluster-harness.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('NATS restart during a join storm', () => {
  it('replicas catch up within seconds of NATS coming back: every visitor gets a place, never more than capacity seated', async () => {
    const capacity = 3;
    cluster = await Cluster.start(3, ['--capacity', String(capacity), '--lease-ttl', '1000']);
    await ownerOf(cluster.nodes[0]!);
    const clients: TestClient[] = [];
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(seatedCount(clients)), 50);
    let storming = true;
    const storm = (async () => {
      for (let i = 0; storming; i++) {
        clients.push(new TestClient(`${cluster!.nodes[i % 3]!.url}/`));
        // Now and then a seated visitor leaves, so seats change hands across the restart.
        if (i % 7 === 3) clients.find((client) => client.lastStatus?.status === 'active' && client.ws.readyState === client.ws.OPEN)?.close(1000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await waitFor('someone seated', () => seatedCount(clients) > 0, 10_000);
    await cluster.nats.kill();
    await waitFor('a node not ready', async () => (await fetch(`${cluster!.nodes[0]!.httpUrl}/readyz`)).status === 503, 10_000);
    await cluster.nats.launch();
    await new Promise((resolve) => setTimeout(resolve, 500));
    storming = false;
    await storm;
    // Without the replicas' consumer made again promptly, visitors wait 30 s or more for their place.
    await waitFor('every visitor placed', () => clients.every((client) => client.ws.readyState !== client.ws.OPEN || client.lastStatus !== undefined), 10_000);
    clearInterval(sampler);
    expect(Math.max(...samples)).toBeLessThanOrEqual(capacity);
    // No place lost: every node counts exactly the visitors still connected.
    const open = clients.filter((client) => client.ws.readyState === client.ws.OPEN).length;
    for (const node of cluster.nodes) {
      await waitFor(`${node.id} counts every visitor`, async () => {
        const view = await getJson(`${node.httpUrl}/api/rooms/main`);
        return view.active + view.queued === open && view.active <= capacity;
      }, 10_000);
    }
  }, 30_000);
});
