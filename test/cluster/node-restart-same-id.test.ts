import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, TestClient } from '../support/live-server.js';
import { Cluster, ownerOf } from './support/cluster-harness.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('a node restarted with the same --node-id before its presence expired', () => {
  it("holds its earlier run's seats and places for the resume window, then frees them: no seat is kept by nobody", async () => {
    cluster = await Cluster.start(2, ['--capacity', '1', '--lease-ttl', '5000', '--resume-window', '1000']);
    const owner = await ownerOf(cluster!.nodes[0]!);
    const ownerNode = cluster.node(owner);
    const restarted = cluster.nodes.find((node) => node.id !== owner)!;
    const seatedThere = await TestClient.placed(`${restarted.url}/`);
    const waiting = await TestClient.placed(`${ownerNode.url}/`);
    expect([seatedThere.lastStatus?.status, waiting.lastStatus?.position]).toEqual(['active', 1]);

    // Back well within the 5 s TTL: the cluster never sees the node's presence expire.
    await cluster.kill(restarted.id);
    await cluster.addNode(restarted.id);
    // The seat is held for a resume; nobody resumes it, so once the window ends it goes to the head of the line.
    await waiting.until((status) => status.status === 'active', 8_000);
  }, 30_000);
});
