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

const readiness = async (url: string) => (await fetch(`${url}/readyz`)).status;

describe('NATS restart', () => {
  it('nodes stop admitting and say so on /readyz while NATS is away, then go on with every place kept', async () => {
    cluster = await Cluster.start(2, ['--capacity', '1', '--lease-ttl', '1000']);
    const [a, b] = cluster.nodes as [NonNullable<(typeof cluster.nodes)[0]>, NonNullable<(typeof cluster.nodes)[0]>];
    const seated = await TestClient.placed(`${a.url}/`);
    const first = await TestClient.placed(`${b.url}/`);
    const second = await TestClient.placed(`${a.url}/`);
    expect([seated.lastStatus?.status, first.lastStatus?.position, second.lastStatus?.position]).toEqual(['active', 1, 2]);

    await cluster.nats.kill();
    for (const node of [a, b]) await waitFor(`${node.id} not ready`, async () => (await readiness(node.httpUrl)) === 503, 10_000);
    expect((await getJson(`${a.httpUrl}/readyz`)).reason).toMatch(/NATS/);
    // Its visitors are told too: the room is paused for them, with a notice saying why.
    const paused = await first.next((m) => m.type === 'room' && m.status === 'paused', 10_000);
    expect(paused.notice).toMatch(/lost its link to the cluster/);
    // Nobody is admitted while NATS is away: a seat that frees waits, and a newcomer gets no place yet.
    await seated.close(1000);
    const newcomer = await TestClient.open(`${b.url}/`);
    expect(newcomer.lastStatus).toBeUndefined();
    expect(first.lastStatus?.status).toBe('queued');

    await cluster.nats.launch();
    for (const node of [a, b]) await waitFor(`${node.id} ready again`, async () => (await readiness(node.httpUrl)) === 200, 15_000);
    expect(await first.next((m) => m.type === 'room' && m.status === 'open', 10_000)).toMatchObject({ notice: null });
    // The commands made while NATS was away were kept and carried out once, in order.
    await first.until((status) => status.status === 'active', 15_000);
    await second.until((status) => status.position === 1, 15_000);
    await newcomer.until((status) => status.status === 'queued' && status.position === 2, 15_000);
    for (const node of [a, b]) {
      await waitFor(`${node.id} agrees`, async () => {
        const room = await getJson(`${node.httpUrl}/api/rooms/main`);
        return room.active === 1 && room.queued === 2;
      }, 10_000);
    }
    expect(first.ws.readyState).toBe(first.ws.OPEN);
    expect(second.ws.readyState).toBe(second.ws.OPEN);
  }, 50_000);
});
