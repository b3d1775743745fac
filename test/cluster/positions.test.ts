import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, getJson, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { replayCommand } from '../../src/cli/replay-command.js';
import { captureOutput } from '../support/capture-output.js';
import { Cluster } from './support/cluster-harness.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start(3, ['--capacity', '2', '--lease-ttl', '1500', '--admin-token', 'op-secret']);
}, 30_000);

afterAll(async () => {
  await closeAll();
  await cluster?.stop();
});

describe('one line served by three nodes', () => {
  it('gives exact positions to clients on different nodes and promotes across nodes', async () => {
    const [a, b, c] = cluster.nodes;
    const clients: TestClient[] = [];
    // One at a time, so the order of arrival is known: 2 seats, then positions 1, 2, 3 across the nodes.
    for (const node of [a!, b!, c!, a!, b!]) {
      const client = await TestClient.placed(`${node.url}/`, {});
      clients.push(client);
    }
    expect(clients.map((client) => client.lastStatus?.status)).toEqual(['active', 'active', 'queued', 'queued', 'queued']);
    expect(clients.slice(2).map((client) => client.lastStatus?.position)).toEqual([1, 2, 3]);
    clients[2]!.send({ type: 'hello', v: 2 });
    expect((await clients[2]!.next((m) => m.type === 'hello')).features).toContain('cluster');

    // The view is the same on every node, and names the owner.
    for (const node of cluster.nodes) {
      await waitFor(`${node.id} sees 2 seated and 3 queued`, async () => {
        const room = await getJson(`${node.httpUrl}/api/rooms/main`);
        return room.active === 2 && room.queued === 3 && typeof room.owner === 'string';
      });
    }

    // A seat left on node a goes to the head of the line, who is on node c; positions move up everywhere.
    await clients[0]!.close(1000);
    await clients[2]!.until((status) => status.status === 'active', 10_000);
    await clients[3]!.until((status) => status.position === 1, 10_000);
    await clients[4]!.until((status) => status.position === 2, 10_000);

    // Presence entries are rewritten every third of the lease TTL: the owner's shows once it has written one.
    let view: any;
    await waitFor('the cluster view names one owner of main', async () => {
      view = await getJson(`${b!.httpUrl}/api/cluster`);
      return view.nodes.flatMap((node: { roomsOwned: string[] }) => node.roomsOwned).join() === 'main';
    });
    expect(view.nodes.map((node: { id: string }) => node.id)).toEqual(['n1', 'n2', 'n3']);
    const owner = view.nodes.find((node: { roomsOwned: string[] }) => node.roomsOwned.length > 0);
    expect((await getJson(`${c!.httpUrl}/api/rooms/main`)).owner).toBe(owner.id);
    expect(view.nodes.every((node: { address: string; lastSeen: number }) => node.address.startsWith('ws://127.0.0.1:') && node.lastSeen > 0)).toBe(true);

    // A seated session resumed on another node takes its seat over; the old connection is told `replaced` (4005).
    const seated = clients[1]!;
    expect(seated.lastStatus?.status).toBe('active');
    const takeover = await TestClient.placed(`${c!.url}/?resume=${seated.lastStatus!.resumeToken}`);
    expect(takeover.lastStatus).toMatchObject({ status: 'active', session: seated.lastStatus!.session });
    expect((await seated.closed).code).toBe(4005);
    expect(seated.messages.some((m) => m.type === 'evicted' && m.reason === 'replaced')).toBe(true);
    expect(clients[3]!.lastStatus?.position).toBe(1);
  }, 30_000);

  it('replays the room from its stream: every command decided again the same, the room as the nodes see it', async () => {
    let room: any;
    await waitFor('the nodes agree', async () => {
      const views = await Promise.all(cluster.nodes.map((node) => getJson(`${node.httpUrl}/api/rooms/main`)));
      room = views[0];
      return views.every((view) => view.active === room.active && view.queued === room.queued);
    });
    const { out, text } = captureOutput();
    const code = await replayCommand(["--nats", cluster.nats.url, "--room", "main"], out);
    expect(text()).toMatch(/reproduced/);
    expect(code).toBe(0);
    expect(text()).toMatch(/^reproduced \d+ decisions from \d+ commands of room "main"/);
    expect(text()).toContain(`room "main": open, ${room.active}/2 seated, ${room.queued} in line`);

    const missing = captureOutput();
    expect(await replayCommand(['--nats', cluster.nats.url, '--room', 'nowhere'], missing.out)).toBe(1);
    expect(missing.text()).toContain('no entries for room "nowhere"');
  }, 20_000);

  it('an admin write on one node answers with the room after it, and every node serves the change', async () => {
    const [a, b, c] = cluster.nodes;
    const before = await getJson(`${a!.httpUrl}/api/rooms/main`);
    const response = await fetch(`${b!.httpUrl}/api/rooms/main`, {
      method: 'POST',
      headers: { authorization: 'Bearer op-secret', 'content-type': 'application/json' },
      body: JSON.stringify({ capacity: before.capacity + 1 }),
    });
    expect(response.status).toBe(200);
    const answered = await response.json();
    expect(answered.capacity).toBe(before.capacity + 1);
    // The seat it adds goes to the head of the line, wherever that visitor is connected.
    expect(answered.active).toBe(Math.min(before.active + before.queued, before.capacity + 1));
    for (const node of [a!, c!]) {
      await waitFor(`${node.id} serves the new capacity`, async () => (await getJson(`${node.httpUrl}/api/rooms/main`)).capacity === before.capacity + 1);
    }
  }, 20_000);
});
