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

describe('a node that dies', () => {
  it('SIGKILL of a non-owner: others keep their places without reconnecting; its sessions are held and resume on other nodes', async () => {
    cluster = await Cluster.start(3, ['--capacity', '2', '--lease-ttl', '1000', '--resume-window', '30000']);
    let owner = '';
    await waitFor('an owner', async () => Boolean((owner = (await getJson(`${cluster!.nodes[0]!.httpUrl}/api/rooms/main`)).owner ?? '')), 10_000);
    const ownerNode = cluster.node(owner);
    const [victim, third] = cluster.nodes.filter((node) => node.id !== owner) as [typeof ownerNode, typeof ownerNode];
    const seatedOnVictim = await TestClient.placed(`${victim.url}/`);
    const seatedOnOwner = await TestClient.placed(`${ownerNode.url}/`);
    const queuedOnVictim = await TestClient.placed(`${victim.url}/`);
    const queuedOnThird = await TestClient.placed(`${third.url}/`);
    expect([seatedOnVictim, seatedOnOwner].map((c) => c.lastStatus?.status)).toEqual(['active', 'active']);
    expect([queuedOnVictim, queuedOnThird].map((c) => c.lastStatus?.position)).toEqual([1, 2]);

    await cluster.kill(victim.id);
    // The owner notices the node is gone (its presence entry expires) and holds its place and seat.
    await waitFor('the dead node\'s place and seat held', async () => {
      const room = await getJson(`${third.httpUrl}/api/rooms/main`);
      return room.held === 1 && room.away === 1 && room.active === 2;
    }, 10_000);
    // Nobody took the held seat; the survivors kept their places and sockets.
    expect(queuedOnThird.lastStatus?.position).toBe(2);
    expect(queuedOnThird.ws.readyState).toBe(queuedOnThird.ws.OPEN);
    expect(seatedOnOwner.ws.readyState).toBe(seatedOnOwner.ws.OPEN);

    // Both come back on other nodes with their resume tokens: the seat, and the first place in line.
    const seatBack = await TestClient.placed(`${third.url}/?resume=${seatedOnVictim.lastStatus!.resumeToken}`);
    expect(seatBack.lastStatus).toMatchObject({ status: 'active', session: seatedOnVictim.lastStatus!.session });
    const placeBack = new TestClient(`${ownerNode.url}/?resume=${queuedOnVictim.lastStatus!.resumeToken}`);
    await placeBack.until((status) => status.status === 'queued' && status.position === 1, 10_000);
    expect(placeBack.lastStatus!.session).toBe(queuedOnVictim.lastStatus!.session);
    expect(queuedOnThird.lastStatus?.position).toBe(2);

    // A seat that frees goes to the resumed head of the line, across nodes.
    await seatedOnOwner.close(1000);
    await placeBack.until((status) => status.status === 'active', 10_000);
    await queuedOnThird.until((status) => status.position === 1, 10_000);
  }, 40_000);
});
