import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';
import { RawWebSocket } from './hardening/raw-websocket.js';

afterEach(closeAll);

describe('graceful shutdown', () => {
  it('sends evicted{shutdown} and closes every session with 1001, then refuses new sockets', async () => {
    const live = await startServer(['--capacity', '2']);
    const clients = [];
    for (let i = 0; i < 4; i++) {
      const client = await TestClient.open(live.url);
      await client.next((m) => m.type === 'status');
      clients.push(client);
    }
    await live.close();
    for (const client of clients) {
      expect((await client.closed).code).toBe(1001);
      expect(client.messages.find((m) => m.type === 'evicted')?.reason).toBe('shutdown');
    }
    const late = new TestClient(live.url);
    await expect(late.opened).rejects.toThrow();
  });

  it('gives an arrival not yet placed when it begins the same 2 s as the clients to answer its close, then cuts it', async () => {
    // A close timeout far beyond the grace: a stop that waits for it is told apart from one that cuts.
    const live = await startServer([], { closeTimeoutMs: 20_000 });
    let stoppedAt = 0;
    // Stops as the upgrade comes in: it is granted, and waits in the arrival line, while the server stops.
    live.server.http.once('upgrade', () => void live.close().then(() => (stoppedAt = Date.now())));
    // A peer that never answers a close frame.
    const arrival = await RawWebSocket.open(live.url);
    await waitFor('the server to stop', () => stoppedAt > 0, 10_000);
    expect(arrival.closeFrame()?.payload.readUInt16BE(0)).toBe(1001);
    expect(arrival.messages()).toEqual([]);
    await waitFor('the arrival to be cut', () => arrival.isClosed);
  });
});

