import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient, type LiveServer } from '../../support/live-server.js';
import { encodeClientFrame, Opcode, RawWebSocket, rawHandshake, waitFor } from './raw-websocket.js';

let live: LiveServer | undefined;
const raws: RawWebSocket[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await closeAll();
});

const closeTimeoutMs = 400;

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

describe('sockets the server has decided to close', () => {
  it('count toward the per-address limit until they are gone, and are cut after the close timeout', async () => {
    live = await startServer(['--max-connections-per-ip', '5'], { closeTimeoutMs });
    // Upgrades to a room that does not exist are accepted, then closed with 4004; these peers never answer.
    const attempts = [];
    for (let i = 0; i < 8; i++) attempts.push(await rawHandshake(`${live.url}/rooms/nope`));
    const statuses = attempts.map((attempt) => attempt.status);
    expect(statuses.filter((status) => status === 101)).toHaveLength(5);
    expect(statuses.filter((status) => status === 503)).toHaveLength(3);
    expect(live.server.gate.openFrom('127.0.0.1')).toBe(5);
    expect(metricValue(await live.server.metrics.render(), 'anteroom_connections_open')).toBe(5);

    const accepted = attempts.filter((attempt) => attempt.status === 101);
    for (const attempt of attempts) attempt.socket.on('error', () => {});
    // The library's own close timer is 30 s; the generous bound here is still far below it.
    await Promise.all(accepted.map((attempt) => new Promise((resolve) => attempt.socket.once('close', resolve))));
    await waitFor('the counts to be given back', () => live!.server.gate.openCount === 0);
    expect(metricValue(await live.server.metrics.render(), 'anteroom_connections_open')).toBe(0);
    for (const attempt of attempts) attempt.socket.destroy();
    const after = await TestClient.placed(live.url);
    expect(after.lastStatus?.status).toBe('active');
  }, 15_000);

  it('cut a flooding client that never answers the close frame after the close timeout', async () => {
    // A long heartbeat timeout, so only the close timer can end the socket.
    live = await startServer(['--rate-limit', '2', '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000'], { closeTimeoutMs, floodCloseAfter: 4 });
    const raw = await RawWebSocket.open(live.url);
    raws.push(raw);
    await waitFor('the first status', () => raw.messages().some((m) => m.type === 'status'));
    raw.sendTexts('{"type":"ping"}', 40);
    await waitFor('the 1008 close frame', () => raw.closeFrame() !== undefined);
    expect(raw.closeFrame()!.payload.readUInt16BE(0)).toBe(1008);
    expect(live.server.gate.openCount).toBe(1);
    // The peer keeps its side open and never answers: the server cuts it.
    await Promise.race([raw.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not cut within 10 s')), 10_000))]);
    await waitFor('the count to be given back', () => live!.server.gate.openCount === 0 && live!.server.clients.size === 0);
  }, 15_000);
});

describe('a socket closed before it joins a room', () => {
  it('survives whatever the peer sends meanwhile: an oversized frame to an unknown room closes that socket only', async () => {
    const live = await startServer([]);
    const peer = await RawWebSocket.open(`${live.url}/rooms/nope`);
    // 70,000 bytes in one text frame: over the 64 KiB limit, so ws refuses it with an error on that socket.
    peer.writeBytes(encodeClientFrame(Opcode.text, Buffer.alloc(70_000, 32)));
    await peer.closed;
    const health = await fetch(`${live.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const client = await TestClient.placed(live.url);
    expect(client.lastStatus?.status).toBe('active');
  });
});
