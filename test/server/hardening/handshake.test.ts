import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, sleep, startServer, TestClient, type LiveServer } from '../../support/live-server.js';
import { encodeClientFrame, Opcode, rawHandshake, waitFor } from './raw-websocket.js';

let live: LiveServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await live?.close();
  live = undefined;
});

/** A TCP connection to the server that records what it reads and when it is closed. */
function tcp(port: number, from?: string): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ port, host: '127.0.0.1', ...(from === undefined ? {} : { localAddress: from }) });
  sockets.push(socket);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

const portOf = (server: LiveServer) => Number(new URL(server.url).port);

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function expectHealthyAndEmpty(server: LiveServer): Promise<void> {
  await waitFor('every socket to be forgotten', async () => {
    const metrics = await server.server.metrics.render();
    return metricValue(metrics, 'anteroom_handshakes_pending') === 0 && server.server.gate.openCount === 0 && server.server.clients.size === 0;
  });
  expect(await getJson(`${server.httpUrl}/healthz`)).toEqual({ ok: true });
  const client = await TestClient.open(server.url);
  expect((await client.next((m) => m.type === 'status')).status).toBe('active');
  await client.close();
}

describe('upgrade handshake', () => {
  it('cuts a connection that sends nothing, or half an upgrade, once the handshake timeout passes', async () => {
    live = await startServer(['--handshake-timeout', '300']);
    const silent = tcp(portOf(live));
    const half = tcp(portOf(live));
    half.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
    // A request completed in time is answered and its connection is not cut by the guard.
    const prompt = tcp(portOf(live));
    prompt.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');

    await Promise.all([silent.closed, half.closed]);
    expect(silent.received()).toBe('');
    expect(half.received()).toBe('');
    expect(prompt.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(prompt.socket.destroyed).toBe(false);

    const metrics = await live.server.metrics.render();
    expect(metricValue(metrics, 'anteroom_handshakes_cut_total{reason="timeout"}')).toBe(2);
    prompt.socket.destroy();
    await expectHealthyAndEmpty(live);
  });

  it('cuts new connections at once while as many as --max-connections are still mid-handshake', async () => {
    live = await startServer(['--max-connections', '2', '--handshake-timeout', '10000']);
    const waiting = [tcp(portOf(live)), tcp(portOf(live))];
    await waitFor('two pending handshakes', async () => metricValue(await live!.server.metrics.render(), 'anteroom_handshakes_pending') === 2);
    const third = tcp(portOf(live));
    await third.closed;
    expect(third.received()).toBe('');
    const metrics = await live.server.metrics.render();
    expect(metricValue(metrics, 'anteroom_handshakes_cut_total{reason="too_many_pending"}')).toBe(1);
    for (const connection of waiting) connection.socket.destroy();
    await expectHealthyAndEmpty(live);
  });

  it('gives each address only its share of pending handshakes, so one cannot take the pool from everyone', async () => {
    live = await startServer(['--max-connections', '20', '--max-handshakes-per-ip', '4', '--handshake-timeout', '10000']);
    // One address (127.0.0.2) opens as many silent connections as the whole pool holds.
    const silent = Array.from({ length: 20 }, () => tcp(portOf(live!), '127.0.0.2'));
    await waitFor('all but its share to be cut', () => silent.filter((c) => c.socket.destroyed || c.socket.readableEnded).length === 16);
    const metrics = await live.server.metrics.render();
    expect(metricValue(metrics, 'anteroom_handshakes_pending')).toBe(4);
    expect(metricValue(metrics, 'anteroom_handshakes_cut_total{reason="too_many_pending_per_ip"}')).toBe(16);
    // Everyone else still gets in, and health checks are answered.
    const others = await Promise.all(Array.from({ length: 10 }, () => TestClient.placed(live!.url)));
    expect(others.every((client) => client.lastStatus?.type === 'status')).toBe(true);
    expect(await getJson(`${live.httpUrl}/healthz`)).toEqual({ ok: true });
    for (const client of others) await client.close();
    for (const connection of silent) connection.socket.destroy();
    await expectHealthyAndEmpty(live);
  });

  it('bounds every request on a keep-alive connection, not only the first', async () => {
    live = await startServer(['--handshake-timeout', '500']);
    const connection = tcp(portOf(live));
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor('the first answer', () => /\r\n\r\n\{"ok":true\}/.test(connection.received()));
    // A second request that trickles in a header line at a time, for ever.
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = setInterval(() => connection.socket.writable && connection.socket.write('X-Slow: yes\r\n'), 100);
    try {
      // Node's own sweep would let it run for 30 s; the bound here is generous above 500 ms and far below that.
      await Promise.race([connection.closed, sleep(8000).then(() => Promise.reject(new Error('the slow request was not cut')))]);
    } finally {
      clearInterval(trickle);
    }
    expect(connection.received().match(/HTTP\/1\.1 200/g)).toHaveLength(1);
    await expectHealthyAndEmpty(live);
  });

  it('drops garbage, malformed upgrades and abandoned handshakes without harm', async () => {
    live = await startServer(['--handshake-timeout', '2000']);
    const port = portOf(live);
    const upgrade = (lines: string[]) => `${['GET / HTTP/1.1', 'Host: 127.0.0.1', ...lines].join('\r\n')}\r\n\r\n`;
    const wellFormed = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
    const attempts: { what: string; bytes: string | Buffer; expect: RegExp }[] = [
      { what: 'binary garbage', bytes: Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]), expect: /^HTTP\/1\.1 400 / },
      { what: 'a garbage request line', bytes: 'HELLO THERE\r\n\r\n', expect: /^HTTP\/1\.1 400 / },
      { what: 'no key', bytes: upgrade(['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']), expect: /^HTTP\/1\.1 400 / },
      {
        what: 'a bad version',
        bytes: upgrade(['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 7']),
        expect: /^HTTP\/1\.1 4\d\d /,
      },
      {
        what: 'a POST upgrade',
        bytes: upgrade(wellFormed).replace('GET', 'POST'),
        expect: /^HTTP\/1\.1 4\d\d /,
      },
      {
        what: 'a path that is not a room',
        bytes: upgrade(wellFormed).replace('GET /', 'GET /nope/x'),
        expect: /^HTTP\/1\.1 404 /,
      },
      { what: 'an oversized header', bytes: upgrade([`X-Pad: ${'a'.repeat(20_000)}`]), expect: /^HTTP\/1\.1 431 / },
    ];
    for (const attempt of attempts) {
      const connection = tcp(port);
      connection.socket.write(attempt.bytes);
      await connection.closed;
      expect(connection.received(), attempt.what).toMatch(attempt.expect);
    }

    // Upgrades abandoned at every stage: before the answer, right after it, and with junk frames behind it.
    for (let i = 0; i < 10; i++) {
      const early = tcp(port);
      early.socket.write(upgrade(wellFormed));
      early.socket.destroy();
      const { socket } = await rawHandshake(live.url);
      sockets.push(socket);
      socket.write(Buffer.concat([encodeClientFrame(Opcode.text, Buffer.from('{"type":"ping"}')), Buffer.from([0x8f, 0xff, 1, 2, 3])]));
      socket.end();
      const cut = await rawHandshake(live.url);
      cut.socket.destroy();
    }
    await expectHealthyAndEmpty(live);
  });
});

describe('origin allowlist', () => {
  it('answers 403 to a disallowed or missing Origin and accepts the listed ones, normalised', async () => {
    live = await startServer(['--allowed-origins', 'https://good.example,http://localhost:3000']);
    const status = async (headers: Record<string, string>) => {
      const { socket, status } = await rawHandshake(live!.url, headers);
      socket.destroy();
      return status;
    };
    expect(await status({ Origin: 'https://good.example' })).toBe(101);
    expect(await status({ Origin: 'HTTPS://Good.Example:443' })).toBe(101);
    expect(await status({ Origin: 'http://localhost:3000' })).toBe(101);
    expect(await status({ Origin: 'https://evil.example' })).toBe(403);
    expect(await status({ Origin: 'https://good.example.evil.example' })).toBe(403);
    expect(await status({ Origin: 'http://good.example' })).toBe(403);
    expect(await status({ Origin: 'null' })).toBe(403);
    expect(await status({})).toBe(403);

    const refused = new TestClient(live.url, { headers: { Origin: 'https://evil.example' } });
    await expect(refused.opened).rejects.toThrow(/403/);
    const accepted = await TestClient.open(live.url, { headers: { Origin: 'https://good.example' } });
    expect((await accepted.next((m) => m.type === 'status')).type).toBe('status');
    await accepted.close();

    const metrics = await live.server.metrics.render();
    expect(metricValue(metrics, 'anteroom_upgrades_refused_total{reason="origin"}')).toBe(6);
    await waitFor('counts to return to zero', () => live!.server.gate.openCount === 0);
  });

  it("always lets in the server's own origin, the one its pages are served from, and no other port of the host", async () => {
    live = await startServer(['--allowed-origins', 'https://tickets.example.com']);
    const own = new URL(live.httpUrl);
    const status = async (origin: string) => {
      const { socket, status } = await rawHandshake(live!.url, { Origin: origin });
      socket.destroy();
      return status;
    };
    expect(await status(own.origin)).toBe(101);
    expect(await status(own.origin.toUpperCase())).toBe(101);
    expect(await status(`http://${own.hostname}:${Number(own.port) + 1}`)).toBe(403);
    expect(await status('https://evil.example')).toBe(403);
  });

  it('leaves no handshake listener on a socket once it is a WebSocket, and still counts it open until it closes', async () => {
    live = await startServer([]);
    const client = await TestClient.open(live.url);
    await client.next((m) => m.type === 'status');
    const [accepted] = [...live.server.clients.values()];
    const socket = (accepted!.ws as unknown as { _socket: Socket })._socket;
    expect(socket.listeners('close').map((listener) => listener.name)).not.toContain('bound settle');
    expect(live.server.gate.openCount).toBe(1);
    await client.close();
    await waitFor('the socket to be counted closed', () => live!.server.gate.openCount === 0);
  });
});
