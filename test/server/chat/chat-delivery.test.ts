import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/server/logger.js';
import { ChatDelivery } from '../../../src/server/chat-delivery.js';
import type { ClientSocket } from '../../../src/server/client-socket.js';
import type { RoomRuntime } from '../../../src/rooms/room-runtime.js';
import { openAnteroomDatabase } from '../../../src/store/anteroom-database.js';
import { ChatHistory } from '../../../src/store/chat-history.js';

afterEach(() => vi.restoreAllMocks());

/** A socket that keeps what it was sent, with `bufferedAmount` as given. */
function fakeClient(conn: string, bufferedAmount = 0) {
  const sent: string[] = [];
  const ws = { OPEN: 1, readyState: 1, bufferedAmount, send: (text: string) => sent.push(text) };
  const client = { conn, ws, overflowed: false, chatWelcomed: true } as unknown as ClientSocket;
  return { client, sent };
}

/** A room with members `a` (user ua), `b` (ub) and `c` (uc); `slow` is over its budget. */
function setup() {
  const db = openAnteroomDatabase(null);
  const members = new Map([
    ['a', 'ua'],
    ['b', 'ub'],
    ['c', 'uc'],
  ]);
  const runtime = { memberConnections: () => members.keys(), memberOf: (conn: string) => members.get(conn) } as unknown as RoomRuntime;
  const fakes = { a: fakeClient('a'), b: fakeClient('b'), c: fakeClient('c', 10_000) };
  const clients = new Map(Object.values(fakes).map((fake) => [fake.client.conn, fake.client]));
  const overflowed: string[] = [];
  const delivery = new ChatDelivery('r', {
    runtime: () => runtime,
    clients,
    history: new ChatHistory(db),
    historyLimit: 10,
    outboundBudget: 4096,
    logger: createLogger('silent', false),
    overflowed: (client) => overflowed.push(client.conn),
    sent: () => {},
  });
  return { db, delivery, fakes, overflowed };
}

describe('chat delivery at the edge', () => {
  it('serialises a broadcast once and sends the same text to every member; one over its budget is reported, not waited for', () => {
    const { db, delivery, fakes, overflowed } = setup();
    const said = { type: 'said', conn: 'a', seq: 1, id: 'x', user: 'ua', name: 'A', text: '<i>hi</i>', at: 5 } as const;
    delivery.store(said);
    const stringify = vi.spyOn(JSON, 'stringify');
    delivery.decided(said);
    expect(stringify).toHaveBeenCalledTimes(1);
    const expected = JSON.stringify({ type: 'message', seq: 1, id: 'x', from: { user: 'ua', name: 'A' }, text: '<i>hi</i>', at: 5 });
    expect([fakes.a.sent, fakes.b.sent]).toEqual([[expected], [expected]]);
    expect(fakes.c.sent).toEqual([]);
    expect(overflowed).toEqual(['c']);
    db.close();
  });

  it('sends typing to the other members only, and a repeated say to its sender only', () => {
    const { db, delivery, fakes } = setup();
    delivery.decided({ type: 'typingChanged', user: 'ua', name: 'A', state: true, until: 5000 });
    expect(fakes.a.sent).toEqual([]);
    expect(fakes.b.sent.map((text) => JSON.parse(text))).toEqual([{ type: 'typing', from: { user: 'ua', name: 'A' }, state: true }]);
    const said = { type: 'said', conn: 'a', seq: 1, id: 'x', user: 'ua', name: 'A', text: 'hi', at: 5 } as const;
    delivery.store(said);
    delivery.decided({ type: 'sayRepeated', conn: 'a', seq: 1, id: 'x' });
    expect(fakes.a.sent.map((text) => JSON.parse(text))).toEqual([{ type: 'message', seq: 1, id: 'x', from: { user: 'ua', name: 'A' }, text: 'hi', at: 5 }]);
    expect(fakes.b.sent).toHaveLength(1);
    db.close();
  });
});
