import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { encodeClientFrame, Opcode, RawWebSocket, waitFor } from './hardening/raw-websocket.js';

let live: LiveServer | undefined;

afterEach(closeAll);

const cases: [string, string, string][] = [
  ['not JSON', '{"type":', 'bad_json'],
  ['empty string', '', 'bad_json'],
  ['null', 'null', 'not_an_object'],
  ['a number', '42', 'not_an_object'],
  ['a string', '"ping"', 'not_an_object'],
  ['an array', '[{"type":"ping"}]', 'not_an_object'],
  ['no type', '{}', 'invalid_message'],
  ['a numeric type', '{"type":1}', 'invalid_message'],
  ['an empty type', '{"type":""}', 'invalid_message'],
  ['an unknown type', '{"type":"teleport"}', 'unknown_type'],
  ['resume without a token', '{"type":"resume"}', 'invalid_message'],
  ['resume with a numeric token', '{"type":"resume","token":7}', 'invalid_message'],
  ['a prototype key', '{"__proto__":{"type":"leave"}}', 'invalid_message'],
];

describe('malformed input', () => {
  it('answers each malformed message with its error code and changes nothing', async () => {
    live = await startServer(['--capacity', '1', '--rate-limit', '100']);
    const seated = await TestClient.open(live.url);
    const queued = await TestClient.open(live.url);
    await seated.next((m) => m.type === 'status');
    await queued.next((m) => m.type === 'status');
    const before = await getJson(`${live.httpUrl}/api/rooms/main`);
    for (const client of [seated, queued]) {
      for (const [what, frame, code] of cases) {
        client.send(frame);
        const error = await client.next((m) => m.type === 'error');
        expect(error.code, what).toBe(code);
        expect(typeof error.message).toBe('string');
      }
    }
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toEqual(before);
    expect(seated.ws.readyState).toBe(seated.ws.OPEN);
    expect(queued.ws.readyState).toBe(queued.ws.OPEN);
    expect(queued.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    expect(seated.messages.some((m) => m.type === 'evicted')).toBe(false);
  });

  it('refuses a binary frame with binary_not_supported and 1003, releasing the place', async () => {
    live = await startServer(['--capacity', '1']);
    const seated = await TestClient.open(live.url);
    const queued = await TestClient.open(live.url);
    await queued.next((m) => m.type === 'status');
    seated.ws.send(Buffer.from([1, 2, 3]));
    expect((await seated.next((m) => m.type === 'error')).code).toBe('binary_not_supported');
    expect((await seated.closed).code).toBe(1003);
    await queued.until((s) => s.status === 'active', 1000);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 0, held: 0 });
  });

  it('closes an oversized frame with 1009 and keeps serving others', async () => {
    live = await startServer(['--capacity', '1', '--max-payload', '1024']);
    const big = await TestClient.open(live.url);
    const other = await TestClient.open(live.url);
    await other.next((m) => m.type === 'status');
    big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(4096) }));
    expect((await big.closed).code).toBe(1009);
    await other.until((s) => s.status === 'active', 1000);
    other.send({ type: 'ping' });
    expect((await other.next((m) => m.type === 'pong')).t).toBeTypeOf('number');
  });

  it('answers every ping with a pong carrying the server time', async () => {
    live = await startServer();
    const client = await TestClient.open(live.url);
    const before = Date.now();
    client.send({ type: 'ping' });
    const pong = await client.next((m) => m.type === 'pong');
    expect(pong.t).toBeGreaterThanOrEqual(before - 5);
    expect(pong.t).toBeLessThanOrEqual(Date.now() + 5);
  });
});

describe('WebSocket protocol violations', () => {
  for (const [what, frame, code] of [
    ['a text frame that is not UTF-8', () => encodeClientFrame(Opcode.text, Buffer.from([0xc3, 0x28])), 1007],
    ['a reserved opcode', () => encodeClientFrame(0x3, Buffer.from('x')), 1002],
  ] as const) {
    it(`closes on ${what} with ${code} and releases the place rather than holding it`, async () => {
      live = await startServer(['--capacity', '1']);
      const seated = await TestClient.open(live.url);
      await seated.next((m) => m.type === 'status');
      const raw = await RawWebSocket.open(live.url);
      await waitFor('queued status', () => raw.messages().some((m) => m.type === 'status'));
      raw.writeBytes(frame());
      await raw.closed;
      expect(raw.closeFrame()?.payload.readUInt16BE(0)).toBe(code);
      await waitFor('place released', async () => (await getJson(`${live!.httpUrl}/api/rooms/main`)).queued === 0);
      expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 0, held: 0 });
    });
  }
});
