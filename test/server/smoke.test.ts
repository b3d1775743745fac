import { afterEach, expect, it } from 'vitest';
import { startServer, TestClient, getJson, type LiveServer } from '../support/live-server.js';
let live: LiveServer;
afterEach(async () => live?.close());
it('smoke', async () => {
  live = await startServer();
  const clients = await Promise.all(Array.from({ length: 7 }, () => TestClient.open(live.url)));
  await Promise.all(clients.map((c) => c.next((m) => m.type === 'status')));
  console.log(clients.map((c) => c.lastStatus));
  console.log(await getJson(live.httpUrl + '/api/rooms'));
  await clients[0]!.close();
  await clients[5]!.until((s) => s.status === 'active');
  console.log(clients.map((c) => c.lastStatus?.status + ':' + c.lastStatus?.position));
  expect(1).toBe(1);
});
