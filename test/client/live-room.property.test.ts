import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WaitingRoomClient } from '../../src/client/index.js';
import type { ChatMessage } from '../../src/client/index.js';
import { FakeSocket } from '../support/fake-socket.js';

const me = { user: 's-me', name: 'Guest s-me' };
const other = { user: 's-other', name: 'Guest s-oth' };
const active = { type: 'status', status: 'active', session: 's-me', token: 'jwt', expiresAt: 9e12, heartbeat: { intervalMs: 60_000, timeoutMs: 120_000 } };

type Step =
  | { kind: 'say' }
  | { kind: 'otherSays' }
  | { kind: 'serverReads' }
  | { kind: 'clientReads'; count: number }
  | { kind: 'drop' }
  | { kind: 'readmit' }
  | { kind: 'refuseNext' }
  | { kind: 'tick'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: 'say' }),
  fc.constant<Step>({ kind: 'otherSays' }),
  fc.constant<Step>({ kind: 'serverReads' }),
  fc.integer({ min: 1, max: 5 }).map<Step>((count) => ({ kind: 'clientReads', count })),
  fc.constant<Step>({ kind: 'drop' }),
  fc.constant<Step>({ kind: 'readmit' }),
  fc.constant<Step>({ kind: 'refuseNext' }),
  fc.integer({ min: 1, max: 400 }).map<Step>((ms) => ({ kind: 'tick', ms })),
);

/**
 * A live room as protocol v2 §6 describes it, reduced to one sender: it stores an id once, answers a retried
 * id with the original message, sends the last 50 on admission and answers `history after`; told to, it refuses
 * the next say for the rate (without a ref, as the server does not read a refused message). Frames the client
 * sent are read when the test says, and replies reach the client when the test says; a drop loses both.
 */
class ModelRoom {
  readonly stored: ChatMessage[] = [];
  refuseNext = false;
  readonly #byId = new Map<string, ChatMessage>();
  #read = 0;
  #replies: object[] = [];

  store(id: string, from: typeof me, text: string): ChatMessage {
    const message = { seq: this.stored.length + 1, id, from, text, at: 1000 + this.stored.length };
    this.stored.push(message);
    this.#byId.set(id, message);
    return message;
  }

  admit(socket: FakeSocket): void {
    this.#read = 0;
    this.#replies = [];
    socket.open();
    socket.receive(active);
    socket.receive({ type: 'presence', members: [me, other] });
    socket.receive({ type: 'history', messages: this.stored.slice(-50), more: this.stored.length > 50 });
  }

  otherSays(n: number): void {
    this.#replies.push({ type: 'message', ...this.store(`other-${n}`, other, `other ${n}`) });
  }

  /** Reads every frame the open socket sent and queues the answers. */
  read(socket: FakeSocket): void {
    if (socket.readyState !== 1) return;
    for (const frame of socket.sent.slice(this.#read)) {
      if (frame.type === 'say' && this.refuseNext) {
        this.refuseNext = false;
        this.#replies.push({ type: 'error', code: 'rate_limited', message: 'too many messages', retryAfterMs: 200 });
      } else if (frame.type === 'say') {
        const message = this.#byId.get(frame.id) ?? this.store(frame.id, me, frame.text);
        this.#replies.push({ type: 'message', ...message });
      } else if (frame.type === 'history' && typeof frame.after === 'number') {
        this.#replies.push({ type: 'history', messages: this.stored.filter((m) => m.seq > frame.after), more: false });
      }
    }
    this.#read = socket.frames.length;
  }

  deliver(socket: FakeSocket, count: number): void {
    if (socket.readyState !== 1) return;
    for (const reply of this.#replies.splice(0, count)) socket.receive(reply);
  }

  drop(socket: FakeSocket): void {
    if (socket.readyState === 1) socket.drop();
    this.#replies = [];
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('live room client under random drops, reads and retries', () => {
  it('every say is stored once and in the order said, and every message is shown once', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        FakeSocket.made = [];
        const client = new WaitingRoomClient({ url: 'ws://room.test/', WebSocket: FakeSocket, backoff: { baseMs: 100, capMs: 100, random: () => 0.5 } });
        const shown: ChatMessage[] = [];
        client.on('message', (message) => shown.push(message));
        client.on('history', ({ messages }) => shown.push(...messages));
        const room = new ModelRoom();
        const said: string[] = [];
        let others = 0;
        client.connect();
        room.admit(FakeSocket.latest);
        const readmit = () => {
          if (FakeSocket.latest.readyState === 1) return;
          vi.advanceTimersByTime(100);
          room.admit(FakeSocket.latest);
        };
        for (const s of steps) {
          const socket = FakeSocket.latest;
          if (s.kind === 'say') said.push(client.say(`mine ${said.length}`));
          else if (s.kind === 'otherSays' && socket.readyState === 1) room.otherSays(others++);
          else if (s.kind === 'serverReads') room.read(socket);
          else if (s.kind === 'clientReads') room.deliver(socket, s.count);
          else if (s.kind === 'drop') room.drop(socket);
          else if (s.kind === 'readmit') readmit();
          else if (s.kind === 'refuseNext') room.refuseNext = true;
          else if (s.kind === 'tick') vi.advanceTimersByTime(s.ms);
        }
        // Calm: connected, everything read and delivered, until nothing is pending.
        room.refuseNext = false;
        for (let round = 0; round < 20 && (client.pendingSays.length > 0 || round < 2); round++) {
          readmit();
          vi.advanceTimersByTime(1000);
          room.read(FakeSocket.latest);
          room.deliver(FakeSocket.latest, Infinity);
        }
        client.close();

        expect(client.pendingSays).toEqual([]);
        expect(room.stored.filter((m) => m.from === me).map((m) => m.id)).toEqual(said);
        const seqs = shown.map((m) => m.seq);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect([...seqs].sort((a, b) => a - b)).toEqual(room.stored.map((m) => m.seq));
        for (const message of shown) expect(message).toEqual(room.stored[message.seq - 1]);
      }),
      { numRuns: 300 },
    );
  });
});
