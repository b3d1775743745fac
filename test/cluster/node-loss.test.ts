import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { Cluster, killChild, ownerOf } from './support/cluster-harness.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('a node that dies', () => {
  it('SIGKILL of a non-owner: others keep their places without reconnecting; its sessions are held and resume on other nodes', async () => {
    cluster = await Cluster.start(3, ['--capacity', '2', '--lease-ttl', '1000', '--resume-window', '30000']);
    const owner = await ownerOf(cluster!.nodes[0]!);
    const ownerNode = cluster.node(owner);
    const [victim, third] = cluster.nodes.filter((node) => node.id !== owner) as [typeof ownerNode, typeof ownerNode];
    const seatedOnVictim = await TestClient.placed(`${victim.url}/`);
    const seatedOnOwner = await TestClient.placed(`${ownerNode.url}/`);
    const queuedOnVictim = await TestClient.placed(`${victim.url}/`);
    const queuedOnThird = await TestClient.placed(`${third.url}/`);
    expect([seatedOnVictim, seatedOnOwner].map((c) => c.lastStatus?.status)).toEqual(['active', 'active']);
    expect([queuedOnVictim, queuedOnThird].map((c) => c.lastStatus?.position)).toEqual([1, 2]);

    await cluster.kill(victim.id);
    // The seated visitor comes back at once on another node, before the cluster could notice the node died.
    const seatBack = await TestClient.placed(`${third.url}/?resume=${seatedOnVictim.lastStatus!.resumeToken}`);
    expect(seatBack.lastStatus).toMatchObject({ status: 'active', session: seatedOnVictim.lastStatus!.session });
    // The owner notices the node is gone (its presence entry expires) and holds its place and seat.
    await waitFor('the dead node\'s place held', async () => {
      const room = await getJson(`${third.httpUrl}/api/rooms/main`);
      return room.held === 1 && room.away === 0 && room.active === 2;
    }, 10_000);
    // Nobody took the held seat; the survivors kept their places and sockets.
    expect(queuedOnThird.lastStatus?.position).toBe(2);
    expect(queuedOnThird.ws.readyState).toBe(queuedOnThird.ws.OPEN);
    expect(seatedOnOwner.ws.readyState).toBe(seatedOnOwner.ws.OPEN);

    // The queued visitor comes back on the owner's node: the first place in line.
    const placeBack = new TestClient(`${ownerNode.url}/?resume=${queuedOnVictim.lastStatus!.resumeToken}`);
    await placeBack.until((status) => status.status === 'queued' && status.position === 1, 10_000);
    expect(placeBack.lastStatus!.session).toBe(queuedOnVictim.lastStatus!.session);
    expect(queuedOnThird.lastStatus?.position).toBe(2);

    // A seat that frees goes to the resumed head of the line, across nodes.
    await seatedOnOwner.close(1000);
    await placeBack.until((status) => status.status === 'active', 10_000);
    await queuedOnThird.until((status) => status.position === 1, 10_000);
  }, 40_000);

  it('SIGTERM of the owner: its clients are told restart (1012), their places are held, another node owns at once', async () => {
    cluster = await Cluster.start(2, ['--capacity', '1', '--lease-ttl', '3000']);
    const owner = await ownerOf(cluster!.nodes[0]!);
    const leaving = cluster.node(owner);
    const staying = cluster.nodes.find((node) => node.id !== owner)!;
    const seated = await TestClient.placed(`${staying.url}/`);
    const queuedOnLeaving = await TestClient.placed(`${leaving.url}/`);
    const queuedOnStaying = await TestClient.placed(`${staying.url}/`);
    expect([queuedOnLeaving.lastStatus?.position, queuedOnStaying.lastStatus?.position]).toEqual([1, 2]);

    const stoppedAt = Date.now();
    await killChild(leaving.child, 'SIGTERM');
    expect(leaving.child.exitCode).toBe(0);
    const closed = await queuedOnLeaving.closed;
    expect(closed.code).toBe(1012);
    expect(queuedOnLeaving.messages.some((m) => m.type === 'evicted' && m.reason === 'restart')).toBe(true);
    // The lease was given up, not left to expire: the other node owns well within the 3 s TTL.
    await waitFor('the staying node owns', async () => (await getJson(`${staying.httpUrl}/api/rooms/main`)).owner === staying.id, 10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(3000 + 1000);
    const back = new TestClient(`${staying.url}/?resume=${queuedOnLeaving.lastStatus!.resumeToken}`);
    await back.until((status) => status.status === 'queued' && status.position === 1, 10_000);
    await seated.close(1000);
    await back.until((status) => status.status === 'active', 10_000);
    await queuedOnStaying.until((status) => status.position === 1, 10_000);
  }, 40_000);
});
