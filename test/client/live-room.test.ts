import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_PENDING_SAYS, WaitingRoomClient } from '../../src/client/index.js';
import { GAP_WAIT_MS } from '../../src/client/live-room.js';
import type { ChatMessage, WaitingRoomClientEvents } from '../../src/client/index.js';
import { FakeSocket } from '../support/fake-socket.js';

const alice = { user: 'u-alice', name: 'Alice' };
const bob = { user: 'u-bob', name: 'Bob' };

const active = { type: 'status', status: 'active', session: 's-1', token: 'jwt', expiresAt: 9e12, heartbeat: { intervalMs: 60_000, timeoutMs: 120_000 } };
const queued = { type: 'status', status: 'queued', position: 2, queueLength: 2, session: 's-1', resumeToken: 'r-1', etaMs: null };

function message(seq: number, fields: Partial<ChatMessage> = {}): ChatMessage {
  return { seq, id: `m-${seq}`, from: bob, text: `text ${seq}`, at: 1_000 + seq, ...fields };
}

type Seen = { [K in keyof WaitingRoomClientEvents]: Array<WaitingRoomClientEvents[K][0]> };

function start() {
  FakeSocket.made = [];
  // Reconnects come 50 ms after a drop: a fixed window keeps the simulated clock exact.
  const client = new WaitingRoomClient({ url: 'ws://room.test/', WebSocket: FakeSocket, backoff: { baseMs: 100, capMs: 100, random: () => 0.5 } });
  const seen = { message: [], presence: [], typing: [], history: [], error: [] } as unknown as Seen;
  for (const name of ['message', 'presence', 'typing', 'history', 'error'] as const) {
    client.on(name, (payload: unknown) => void (seen[name] as unknown[]).push(payload));
  }
  client.connect();
  return { client, seen };
}

/** Opens the latest socket and admits it to a live room with these members and history. */
function admit(history: ChatMessage[] = [], members = [alice, bob], more = false): FakeSocket {
  const socket = FakeSocket.latest;
  socket.open();
  socket.receive(active);
  socket.receive({ type: 'presence', members });
  socket.receive({ type: 'history', messages: history, more });
  return socket;
}

/** Drops the latest connection and lets the client reopen it. */
function reconnect(): FakeSocket {
  const before = FakeSocket.made.length;
  FakeSocket.latest.drop();
  vi.advanceTimersByTime(50);
  expect(FakeSocket.made.length).toBe(before + 1);
  return FakeSocket.latest;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('live room: admission', () => {
  it('reports members and history, and knows the room is live', () => {
    const { client, seen } = start();
    expect(client.liveRoom).toBe(false);
    admit([message(1), message(2)], [alice, bob], true);
    expect(client.liveRoom).toBe(true);
    expect(client.members).toEqual([alice, bob]);
    expect(seen.presence).toEqual([{ members: [alice, bob] }]);
    expect(seen.history).toEqual([{ messages: [message(1), message(2)], more: true }]);
    expect(client.olderHistoryExists).toBe(true);
  });

  it('stays a v1 client in a room that is not live: says wait, typing is not sent', () => {
    const { client } = start();
    const socket = FakeSocket.latest;
    socket.open();
    socket.receive(active);
    client.say('hello');
    client.typing(true);
    expect(client.liveRoom).toBe(false);
    expect(socket.sent).toEqual([]);
    expect(client.pendingSays.map((say) => say.text)).toEqual(['hello']);
  });

  it('follows joins and leaves', () => {
    const { client, seen } = start();
    const socket = admit([], [alice]);
    socket.receive({ type: 'presence', joined: bob });
    expect(client.members).toEqual([alice, bob]);
    socket.receive({ type: 'presence', left: alice });
    expect(client.members).toEqual([bob]);
    expect(seen.presence.slice(1)).toEqual([
      { members: [alice, bob], joined: bob },
      { members: [bob], left: alice },
    ]);
  });

  it('ignores malformed chat messages and keeps only the known fields', () => {
    const { client, seen } = start();
    const socket = admit();
    socket.receive({ type: 'message', seq: 'one', id: 'x', from: bob, text: 'no', at: 1 });
    socket.receive({ type: 'message', seq: 1, id: 'x', from: { user: 1 }, text: 'no', at: 1 });
    socket.receive({ type: 'typing', from: bob, state: 'yes' });
    socket.receive({ type: 'presence', members: [alice, { user: 3 }, null] });
    socket.receive({ type: 'history', messages: [message(5), { seq: 6 }, 'junk'], more: false });
    socket.receive({ type: 'message', ...message(7), extra: '<b>' });
    expect(seen.message).toEqual([message(7)]);
    expect(seen.typing).toEqual([]);
    expect(client.members).toEqual([alice]);
    expect(seen.history.at(-1)).toEqual({ messages: [message(5)], more: false });
  });
});

describe('live room: say', () => {
  it('sends say with a fresh id, and the room\'s copy acknowledges it', () => {
    const { client, seen } = start();
    const socket = admit();
    const id = client.say('<img src=x onerror=alert(1)>');
    expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(socket.sentOf('say')).toEqual([{ type: 'say', id, text: '<img src=x onerror=alert(1)>' }]);
    expect(client.pendingSays).toEqual([{ id, text: '<img src=x onerror=alert(1)>' }]);
    socket.receive({ type: 'message', ...message(3, { id, from: alice, text: '<img src=x onerror=alert(1)>' }) });
    expect(client.pendingSays).toEqual([]);
    expect(seen.message.map((m) => m.id)).toEqual([id]);
    expect(client.say('again')).not.toBe(id);
  });

  it('refuses empty text, text over 2000 UTF-16 units, and a full queue', () => {
    const { client } = start();
    expect(() => client.say('')).toThrow(RangeError);
    expect(() => client.say('x'.repeat(2001))).toThrow(RangeError);
    expect(() => client.say('😀'.repeat(1001))).toThrow(RangeError);
    client.say('x'.repeat(2000));
    for (let i = 1; i < MAX_PENDING_SAYS; i++) client.say(`m${i}`);
    expect(() => client.say('one too many')).toThrow(RangeError);
    expect(client.pendingSays).toHaveLength(MAX_PENDING_SAYS);
  });

  it('shows each seq once, whether it comes live, in history or as the answer to a retry', () => {
    const { seen } = start();
    const socket = admit([message(1), message(2)]);
    socket.receive({ type: 'message', ...message(2) });
    socket.receive({ type: 'message', ...message(3) });
    socket.receive({ type: 'history', messages: [message(2), message(3), message(4)], more: false });
    socket.receive({ type: 'message', ...message(4) });
    expect(seen.message.map((m) => m.seq)).toEqual([3]);
    expect(seen.history.map((page) => page.messages.map((m) => m.seq))).toEqual([[1, 2], [4]]);
  });

  it('keeps what is said while disconnected and sends it, same ids, one at a time in order, after asking for the gap', () => {
    const { client, seen } = start();
    let socket = admit([message(1)]);
    const sentBeforeDrop = client.say('one');
    socket.receive({ type: 'message', ...message(2) });
    socket = reconnect();
    const whileAway = [client.say('two'), client.say('three')];
    expect(socket.sent).toEqual([]);
    // Admitted again: the last 50 come on admission, and the client asks for everything after seq 2; the says
    // wait for the answer, which shows whether the room stored "one" before the drop.
    admit([message(1), message(2), message(3)]);
    const chat = () => socket.sent.filter((m) => m.type !== 'ping');
    expect(chat()).toEqual([{ type: 'history', after: 2 }]);
    socket.receive({ type: 'history', messages: [message(3)], more: false });
    expect(chat()).toEqual([
      { type: 'history', after: 2 },
      { type: 'say', id: sentBeforeDrop, text: 'one' },
    ]);
    socket.receive({ type: 'message', ...message(4, { id: sentBeforeDrop, from: alice, text: 'one' }) });
    expect(chat().slice(2)).toEqual([{ type: 'say', id: whileAway[0], text: 'two' }]);
    socket.receive({ type: 'message', ...message(5, { id: whileAway[0], from: alice, text: 'two' }) });
    expect(chat().slice(3)).toEqual([{ type: 'say', id: whileAway[1], text: 'three' }]);
    socket.receive({ type: 'message', ...message(6, { id: whileAway[1], from: alice, text: 'three' }) });
    expect(client.pendingSays).toEqual([]);
    expect(chat()).toHaveLength(4);
    expect(seen.message.map((m) => m.seq)).toEqual([2, 4, 5, 6]);
    expect(seen.history.map((page) => page.messages.map((m) => m.seq))).toEqual([[1], [3], []]);
  });

  it('after a reconnect as a new session, a say the room stored before the drop is not sent again', () => {
    const { client } = start();
    let socket = admit([message(1)]);
    const stored = client.say('stored, reply lost');
    const notStored = client.say('never reached the room');
    expect(socket.sentOf('say')).toEqual([{ type: 'say', id: stored, text: 'stored, reply lost' }]);
    socket = reconnect();
    socket.open();
    // A new session: the room's retry rule (per user) would not recognise the first say's id.
    socket.receive({ ...active, session: 's-2' });
    socket.receive({ type: 'presence', members: [alice, bob] });
    socket.receive({ type: 'history', messages: [message(1)], more: false });
    expect(socket.sentOf('say')).toEqual([]);
    socket.receive({ type: 'history', messages: [message(2, { id: stored, from: { user: 's-1', name: 'Guest s-1' }, text: 'stored, reply lost' })], more: false });
    expect(socket.sentOf('say')).toEqual([{ type: 'say', id: notStored, text: 'never reached the room' }]);
    expect(client.pendingSays.map((say) => say.id)).toEqual([notStored]);
  });

  it('sends the says anyway when the gap answer does not come within GAP_WAIT_MS', () => {
    const { client } = start();
    admit([message(1)]);
    const id = client.say('back');
    const socket = reconnect();
    admit([message(1)]);
    expect(socket.sentOf('say')).toEqual([]);
    vi.advanceTimersByTime(GAP_WAIT_MS - 1);
    expect(socket.sentOf('say')).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.sentOf('say')).toEqual([{ type: 'say', id, text: 'back' }]);
  });

  it('asks again after a full answer to history after (1000 messages), until the gap is filled', () => {
    const { seen } = start();
    admit([message(1)]);
    const socket = reconnect();
    admit([]);
    expect(socket.sentOf('history')).toEqual([{ type: 'history', after: 1 }]);
    const page = (from: number, count: number) => Array.from({ length: count }, (_, i) => message(from + i));
    socket.receive({ type: 'history', messages: page(2, 1000), more: true });
    expect(socket.sentOf('history').at(-1)).toEqual({ type: 'history', after: 1001 });
    socket.receive({ type: 'history', messages: page(1002, 3), more: true });
    expect(socket.sentOf('history')).toHaveLength(2);
    expect(seen.history.flatMap((p) => p.messages).map((m) => m.seq)).toEqual(Array.from({ length: 1004 }, (_, i) => i + 1));
  });

  it('a say stored before the drop and seen in the gap\'s history is acknowledged by it', () => {
    const { client } = start();
    let socket = admit();
    const id = client.say('lost reply');
    socket = reconnect();
    socket.open();
    socket.receive(active);
    socket.receive({ type: 'history', messages: [message(1, { id, from: alice, text: 'lost reply' })], more: false });
    expect(client.pendingSays).toEqual([]);
  });

  it('a room seen live before is live again at the next admission, before its presence arrives', () => {
    const { client } = start();
    admit([message(1)]);
    const socket = reconnect();
    const id = client.say('back');
    socket.open();
    socket.receive(active);
    expect(client.liveRoom).toBe(true);
    expect(socket.sent.filter((m) => m.type !== 'ping')).toEqual([{ type: 'history', after: 1 }]);
    // The room's last 50, then the answer to history after: the say goes once the gap is read.
    socket.receive({ type: 'presence', members: [alice] });
    socket.receive({ type: 'history', messages: [message(1)], more: false });
    expect(socket.sentOf('say')).toEqual([]);
    socket.receive({ type: 'history', messages: [], more: false });
    expect(socket.sent.filter((m) => m.type !== 'ping')).toEqual([
      { type: 'history', after: 1 },
      { type: 'say', id, text: 'back' },
    ]);
  });

  it('holds says while queued again and sends them once admitted to the live room', () => {
    const { client } = start();
    const socket = admit();
    socket.receive(queued);
    const id = client.say('later');
    expect(socket.sentOf('say')).toEqual([]);
    socket.receive(active);
    socket.receive({ type: 'presence', members: [alice] });
    expect(socket.sentOf('say')).toEqual([{ type: 'say', id, text: 'later' }]);
  });

  it('paces a long queue at 10 a second after a reconnect, each say after the answer to the one before', () => {
    const { client } = start();
    reconnect();
    const ids = Array.from({ length: 25 }, (_, i) => client.say(`m${i}`));
    const socket = admit();
    let seq = 0;
    // The room answers each say at once.
    const answer = () => {
      for (let say = socket.sentOf('say')[seq]; say !== undefined; say = socket.sentOf('say')[seq]) {
        seq += 1;
        socket.receive({ type: 'message', ...message(seq, { id: say.id, from: alice, text: say.text }) });
      }
    };
    expect(socket.sentOf('say')).toHaveLength(1);
    answer();
    expect(socket.sentOf('say')).toHaveLength(10);
    vi.advanceTimersByTime(99);
    answer();
    expect(socket.sentOf('say')).toHaveLength(10);
    vi.advanceTimersByTime(1);
    answer();
    expect(socket.sentOf('say')).toHaveLength(11);
    for (let i = 0; i < 14; i++) {
      vi.advanceTimersByTime(100);
      answer();
    }
    expect(socket.sentOf('say').map((m) => m.id)).toEqual(ids);
    expect(client.pendingSays).toEqual([]);
  });

  it('after a rate_limited refusal sends the say in flight again after retryAfterMs, before the ones after it', () => {
    const { client, seen } = start();
    const socket = admit();
    const first = client.say('first');
    const second = client.say('second');
    expect(socket.sentOf('say').map((m) => m.id)).toEqual([first]);
    // The server does not say which message it refused: it does not read one it refuses.
    socket.receive({ type: 'error', code: 'rate_limited', message: 'too many messages', retryAfterMs: 300 });
    expect(seen.error).toEqual([{ code: 'rate_limited', message: 'too many messages', retryAfterMs: 300 }]);
    vi.advanceTimersByTime(299);
    expect(socket.sentOf('say').map((m) => m.id)).toEqual([first]);
    vi.advanceTimersByTime(1);
    expect(socket.sentOf('say').map((m) => m.id)).toEqual([first, first]);
    socket.receive({ type: 'message', ...message(1, { id: first, from: alice, text: 'first' }) });
    expect(socket.sentOf('say').map((m) => m.id)).toEqual([first, first, second]);
  });

  it('a rate_limited refusal with no say in flight (a ping or typing refused) holds nothing back', () => {
    const { client } = start();
    const socket = admit();
    socket.receive({ type: 'error', code: 'rate_limited', message: 'too many messages', retryAfterMs: 300 });
    const id = client.say('still goes');
    expect(socket.sentOf('say')).toEqual([{ type: 'say', id, text: 'still goes' }]);
  });

  it('keeps a say refused as not admitted, and sends it once admitted', () => {
    const { client } = start();
    const socket = admit();
    const id = client.say('too early');
    socket.receive({ type: 'error', code: 'not_admitted', message: 'only admitted members may chat', ref: id });
    expect(client.pendingSays).toEqual([{ id, text: 'too early' }]);
    const again = reconnect();
    admit();
    expect(again.sentOf('say')).toEqual([{ type: 'say', id, text: 'too early' }]);
  });

  it('forgets a say the room refuses as invalid, and passes the error on with its ref', () => {
    const { client, seen } = start();
    const socket = admit();
    const id = client.say('fine here, refused there');
    socket.receive({ type: 'error', code: 'invalid_message', message: 'too long', ref: id });
    expect(client.pendingSays).toEqual([]);
    expect(seen.error).toEqual([{ code: 'invalid_message', message: 'too long', ref: id }]);
    reconnect();
    const again = admit();
    expect(again.sentOf('say')).toEqual([]);
  });

  it('leave() forgets what was waiting to be said', () => {
    const { client } = start();
    reconnect();
    client.say('never mind');
    client.leave();
    expect(client.pendingSays).toEqual([]);
  });
});

describe('live room: typing and history pages', () => {
  it('sends typing:true at most every 3 s and typing:false once', () => {
    const { client } = start();
    const socket = admit();
    client.typing(true);
    vi.advanceTimersByTime(2999);
    client.typing(true);
    expect(socket.sentOf('typing')).toEqual([{ type: 'typing', state: true }]);
    vi.advanceTimersByTime(1);
    client.typing(true);
    client.typing(false);
    client.typing(false);
    expect(socket.sentOf('typing').map((m) => m.state)).toEqual([true, true, false]);
  });

  it('does not send typing:false after a say (the room clears it), nor before any typing:true', () => {
    const { client } = start();
    const socket = admit();
    client.typing(false);
    client.typing(true);
    client.say('done');
    client.typing(false);
    expect(socket.sentOf('typing').map((m) => m.state)).toEqual([true]);
  });

  it('passes other members\' typing on', () => {
    const { seen } = start();
    const socket = admit();
    socket.receive({ type: 'typing', from: bob, state: true });
    socket.receive({ type: 'typing', from: bob, state: false });
    expect(seen.typing).toEqual([{ from: bob, state: true }, { from: bob, state: false }]);
  });

  it('asks for older pages before the oldest message seen, and follows whether more exist', () => {
    const { client, seen } = start();
    expect(client.loadOlder()).toBe(false);
    const socket = admit([message(51), message(52)], [alice], true);
    expect(client.loadOlder(500)).toBe(true);
    expect(socket.sentOf('history')).toEqual([{ type: 'history', before: 51, limit: 200 }]);
    socket.receive({ type: 'history', messages: [message(49), message(50)], more: false });
    expect(seen.history.at(-1)).toEqual({ messages: [message(49), message(50)], more: false });
    expect(client.olderHistoryExists).toBe(false);
    client.loadOlder();
    expect(socket.sentOf('history').at(-1)).toEqual({ type: 'history', before: 49, limit: 50 });
  });
});
