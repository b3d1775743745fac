import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

afterEach(() => {
  vi.restoreAllMocks();
  return closeAll();
});

describe('a promotion over real sockets', () => {
  it("writes the head's active before any position of the fan-out, and then every position in line is fresh", async () => {
    const live = await startServer(['--capacity', '1', '--heartbeat-timeout', '60000']);
    const seated = await TestClient.placed(live.url);
    const line: TestClient[] = [];
    // One at a time, so the order in line is known.
    for (let i = 0; i < 40; i++) line.push(await TestClient.placed(live.url));
    await waitFor('every position shown', () => line.every((c, i) => c.lastStatus?.position === i + 1));

    // Every status the server writes, in the order it writes them (server and clients share this process).
    const written: { status: string; position?: number }[] = [];
    const send = WebSocket.prototype.send;
    vi.spyOn(WebSocket.prototype, 'send').mockImplementation(function (this: WebSocket, data: unknown, ...rest: unknown[]) {
      if (typeof data === 'string' && data.startsWith('{"type":"status"')) written.push(JSON.parse(data));
      return (send as (...args: unknown[]) => void).call(this, data, ...rest);
    });
    await seated.close(1000);
    await line[0]!.until((s) => s.status === 'active');
    await waitFor('every position fresh', () => line.slice(1).every((c, i) => c.lastStatus?.position === i + 1));
    expect(written[0]).toMatchObject({ status: 'active' });
    expect(written.filter((m) => m.status === 'queued')).toHaveLength(39);
  });
});
