import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { replayCommand } from '../../src/cli/replay-command.js';
import { captureOutput } from '../support/capture-output.js';
import { Cluster, ownerOf, seatedCount } from './support/cluster-harness.js';

const leaseTtlMs = 1500;
const capacity = 3;
let cluster: Cluster | null = null;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = null;
});

describe('failover', () => {
  it('never seats more than capacity while the owner is SIGKILLed in a join storm, and admits again within the lease TTL + 1 s', async () => {
    cluster = await Cluster.start(3, ['--capacity', String(capacity), '--lease-ttl', String(leaseTtlMs)]);
    const first = await ownerOf(cluster.nodes[0]!);
    const survivors = cluster.nodes.filter((node) => node.id !== first);
    const clients: TestClient[] = [];
    const samples: number[] = [];
    const views: number[] = [];
    let storming = true;
    const sampler = setInterval(() => {
      samples.push(seatedCount(clients));
      for (const node of survivors) void getJson(`${node.httpUrl}/api/rooms/main`).then((room) => views.push(room.active), () => {});
    }, 50);
    // The storm: one arrival every few ms on every node, the owner's included, until stopped.
    const storm = (async () => {
      for (let i = 0; storming; i++) {
        const node = cluster!.nodes[i % 3]!;
        if (node.child.exitCode === null && node.child.signalCode === null) clients.push(new TestClient(`${node.url}/`));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor('3 seated', () => seatedCount(clients) === capacity, 10_000);
    await cluster.kill(first);
    const killedAt = Date.now();
    // A seated client on a survivor leaves: its seat must go to someone once a new owner runs the room.
    const leaver = clients.find((client) => client.lastStatus?.status === 'active' && survivors.some((node) => client.ws.url.startsWith(node.url)));
    expect(leaver).toBeDefined();
    const admittedBefore = new Set(clients.filter((client) => client.lastStatus?.status === 'active'));
    leaver!.close(1000);
    let takeoverMs = 0;
    await waitFor('a survivor owns main', async () => {
      const owner = (await getJson(`${survivors[0]!.httpUrl}/api/rooms/main`)).owner;
      takeoverMs = Date.now() - killedAt;
      return survivors.some((node) => node.id === owner);
    }, 10_000);
    await waitFor('a new admission after the failover', () => clients.some((client) => !admittedBefore.has(client) && client.lastStatus?.status === 'active'), 10_000);
    const failoverMs = Date.now() - killedAt;
    storming = false;
    await storm;
    clearInterval(sampler);
    const second = await ownerOf(survivors[0]!);
    expect(second).not.toBe(first);
    console.log(`failover: lease taken ${takeoverMs} ms after the SIGKILL, next admission after ${failoverMs} ms; max seated ${Math.max(...samples)} in ${samples.length} samples`);
    expect(takeoverMs).toBeLessThanOrEqual(leaseTtlMs + 1000);
    // The next admission also waits for the leaver's command to reach the new owner and come back.
    expect(failoverMs).toBeLessThan(leaseTtlMs + 1000 + 1000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(capacity);
    expect(Math.max(...views)).toBeLessThanOrEqual(capacity);
    expect(samples.length).toBeGreaterThan(10);
    // The stream replays across the failover: the new owner went on from exactly where the old one stopped.
    const { out, text } = captureOutput();
    const code = await replayCommand(['--nats', cluster.nats.url, '--room', 'main'], out);
    expect(text()).toMatch(/^reproduced \d+ decisions/);
    expect(code).toBe(0);
  }, 40_000);
});
