import { describe, expect, it } from 'vitest';
import { startServer, TestClient } from '../support/live-server.js';

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
});
