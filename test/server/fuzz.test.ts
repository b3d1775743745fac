import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { RawWebSocket, waitFor } from './hardening/raw-websocket.js';

/** One frame a fuzzing client sends. */
type Frame =
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: Uint8Array }
  /** Arbitrary bytes in a text frame: often not UTF-8. */
  | { kind: 'rawText'; bytes: Uint8Array }
  /** A resume with the token some earlier client was given. */
  | { kind: 'resumeKnown'; pick: number };

type Action = { kind: 'open' } | { kind: 'close'; pick: number } | { kind: 'terminate'; pick: number } | { kind: 'send'; pick: number; frame: Frame };

const capacity = 2;
const maxPayload = 4096;
const prototypeKey = fc.constantFrom('__proto__', 'constructor', 'prototype');
const unicodeJson = fc.jsonValue({ maxDepth: 6, stringUnit: 'grapheme' });

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 3, arbitrary: unicodeJson.map((value) => ({ kind: 'text' as const, text: JSON.stringify(value) })) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((text) => ({ kind: 'text' as const, text })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ key: prototypeKey, type: fc.constantFrom('ping', 'leave', 'resume', 'status', '', 'PING'), extra: unicodeJson, typeFirst: fc.boolean() })
      .map(({ key, type, extra, typeFirst }) => {
        const smuggled = `${JSON.stringify(key)}:{"type":"leave","token":"x"}`;
        const own = `"type":${JSON.stringify(type)},"x":${JSON.stringify(extra)}`;
        return { kind: 'text' as const, text: `{${typeFirst ? `${own},${smuggled}` : `${smuggled},${own}`}}` };
      }),
  },
  fc.integer({ min: 1, max: 1500 }).map((depth) => ({ kind: 'text' as const, text: '['.repeat(depth) + ']'.repeat(depth) })),
  fc.integer({ min: 1, max: 500 }).map((depth) => ({ kind: 'text' as const, text: `{"type":"ping","x":${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}}` })),
  fc.integer({ min: maxPayload + 1, max: 4 * maxPayload }).map((size) => ({ kind: 'text' as const, text: JSON.stringify({ type: 'ping', pad: 'ü'.repeat(size) }) })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'binary' as const, bytes })),
  fc.uint8Array({ minLength: 1, maxLength: 32 }).map((bytes) => ({ kind: 'rawText' as const, bytes })),
  { weight: 3, arbitrary: fc.constantFrom('{"type":"ping"}', '{"type":"leave"}', '{"type":"ping","type":"leave"}').map((text) => ({ kind: 'text' as const, text })) },
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((token) => ({ kind: 'text' as const, text: JSON.stringify({ type: 'resume', token }) })),
  fc.nat().map((pick) => ({ kind: 'resumeKnown' as const, pick })),
);

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'open' as const }) },
  fc.nat().map((pick) => ({ kind: 'close' as const, pick })),
  fc.nat().map((pick) => ({ kind: 'terminate' as const, pick })),
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const), pick: fc.nat(), frame }) },
);

let live: LiveServer;
beforeAll(async () => {
  live = await startServer([
    '--capacity', String(capacity),
    '--max-payload', String(maxPayload),
    '--rate-limit', '100000',
    '--heartbeat-timeout', '60000',
    '--heartbeat-interval', '1000',
    '--resume-window', '60000',
  ]);
});
afterAll(async () => live.close());

/** Answers once every frame this client sent has been handled: a pong, or the server closing it. */
async function settle(client: TestClient): Promise<void> {
  if (client.ws.readyState === client.ws.OPEN) client.send({ type: 'ping' });
  await Promise.race([client.next((m) => m.type === 'pong', 5000), client.closed]);
}

const isOpen = (client: TestClient) => client.ws.readyState === client.ws.OPEN;

/** The room as the API sees it agrees with the sockets the test holds, and the process is alive. */
async function checkRoom(open: TestClient[]): Promise<void> {
  await waitFor('the server to see the same open sockets', () => live.server.clients.size === open.length && live.server.gate.openCount === open.length);
  const room = await getJson(`${live.httpUrl}/api/rooms/main`);
  expect(room.active).toBeLessThanOrEqual(room.capacity);
  // Every open socket has a seat or a live place; held places belong to none.
  expect(room.active + room.queued - room.held).toBe(open.length);
  // Work-conserving: no free seat while someone live waits.
  if (room.queued - room.held > 0) expect(room.active).toBe(room.capacity);
  const seated = open.filter((client) => client.lastStatus?.status === 'active').length;
  expect(seated).toBe(room.active);
  expect(await getJson(`${live.httpUrl}/healthz`)).toEqual({ ok: true });
}

describe('fuzzing a live server over real sockets', () => {
  it('keeps the room invariants and stays up under generated frames, opens and closes', async () => {
    const knownTokens: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
        const clients: TestClient[] = [];
        try {
          for (const step of actions) {
            const open = clients.filter(isOpen);
            if (step.kind === 'open' || open.length === 0) {
              if (open.length >= 5) continue;
              const client = await TestClient.open(live.url);
              clients.push(client);
              const status = await client.next((m) => m.type === 'status');
              if (typeof status.resumeToken === 'string') knownTokens.push(status.resumeToken);
              continue;
            }
            const client = open[step.pick % open.length]!;
            if (step.kind === 'close') await client.close();
            else if (step.kind === 'terminate') client.terminate();
            else if (step.frame.kind === 'text') client.ws.send(step.frame.text);
            else if (step.frame.kind === 'binary') client.ws.send(step.frame.bytes, { binary: true });
            else if (step.frame.kind === 'rawText') client.ws.send(Buffer.from(step.frame.bytes), { binary: false });
            else if (knownTokens.length > 0) client.send({ type: 'resume', token: knownTokens[step.frame.pick % knownTokens.length] });
          }
          await Promise.all(clients.map(settle));
          // Statuses sent as a result of the last frames (promotions, resumes) land within a flush.
          await waitFor('positions to settle', async () => {
            const room = await getJson(`${live.httpUrl}/api/rooms/main`);
            return clients.filter(isOpen).filter((c) => c.lastStatus?.status === 'active').length === room.active;
          });
          await checkRoom(clients.filter(isOpen));
        } finally {
          for (const client of clients) if (isOpen(client)) await client.close();
        }
        await checkRoom([]);
      }),
      { numRuns: 25 },
    );
  });

  it('survives arbitrary bytes on the wire after a completed upgrade', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        const raw = await RawWebSocket.open(live.url);
        try {
          for (const chunk of chunks) raw.writeBytes(chunk);
          await new Promise((resolve) => setTimeout(resolve, 5));
        } finally {
          raw.destroy();
        }
        await checkRoom([]);
      }),
      { numRuns: 25 },
    );
  });
});
