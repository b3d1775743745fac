import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient, type Message } from '../../support/live-server.js';
import { waitFor } from '../../support/wait-for.js';
import { readEventLog } from '../../../src/log/read-event-log.js';
import { replay } from '../../../src/log/replay.js';
import { readDataDirLog } from '../../../src/durable/data-dir-log.js';
import { createLogger } from '../../../src/server/logger.js';
import { openAnteroomDatabase } from '../../../src/store/anteroom-database.js';
import { ChatHistory } from '../../../src/store/chat-history.js';

afterEach(closeAll);

/** A member of the room: connected, admitted, and welcomed (presence and history received). */
async function member(url: string): Promise<{ client: TestClient; session: string; history: Message }> {
  const client = await TestClient.open(`${url}/rooms/main`);
  const status = await client.next((m) => m.type === 'status' && m.status === 'active');
  await client.next((m) => m.type === 'presence' && Array.isArray(m.members));
  const history = await client.next((m) => m.type === 'history');
  return { client, session: status.session, history };
}

const messagesOf = (client: TestClient) => client.messages.filter((m) => m.type === 'message');

describe('a live room over real sockets', () => {
  it('two admitted members chat: both see every message once, in the same seq order, the sender its own copy', async () => {
    const { url } = await startServer(['--chat', '--capacity', '5']);
    const a = await member(url);
    const b = await member(url);
    const joined = await a.client.next((m) => m.type === 'presence' && m.joined);
    expect(joined.joined).toEqual({ user: b.session, name: `Guest ${b.session.slice(0, 4)}` });
    for (let i = 0; i < 10; i++) {
      a.client.send({ type: 'say', id: `a${i}`, text: `from a ${i}` });
      b.client.send({ type: 'say', id: `b${i}`, text: `from b ${i}` });
    }
    await waitFor('20 messages at both', () => messagesOf(a.client).length === 20 && messagesOf(b.client).length === 20);
    const seen = (client: TestClient) => messagesOf(client).map((m) => `${m.seq}:${m.id}`);
    expect(seen(a.client)).toEqual(seen(b.client));
    expect(messagesOf(a.client).map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // A sender's messages keep their send order.
    expect(messagesOf(b.client).filter((m) => m.id.startsWith('a')).map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
    const first = messagesOf(b.client).find((m) => m.id === 'a0')!;
    expect(first.from).toEqual({ user: a.session, name: `Guest ${a.session.slice(0, 4)}` });
    expect(first.text).toBe('from a 0');
    expect(typeof first.at).toBe('number');
  });

  it('a retried say is not stored again: the sender alone gets the original message', async () => {
    const { url } = await startServer(['--chat']);
    const a = await member(url);
    const b = await member(url);
    a.client.send({ type: 'say', id: 'x', text: 'once' });
    const original = await a.client.next((m) => m.type === 'message');
    await b.client.next((m) => m.type === 'message');
    a.client.send({ type: 'say', id: 'x', text: 'twice?' });
    a.client.send({ type: 'say', id: 'y', text: 'after' });
    const repeated = await a.client.next((m) => m.type === 'message');
    expect({ ...repeated, receivedAt: 0 }).toEqual({ ...original, receivedAt: 0 });
    await a.client.next((m) => m.type === 'message' && m.id === 'y');
    await b.client.next((m) => m.type === 'message' && m.id === 'y');
    expect(messagesOf(b.client).map((m) => m.id)).toEqual(['x', 'y']);
    expect(messagesOf(a.client).map((m) => m.seq)).toEqual([1, 1, 2]);
  });

  it('a queued session that chats gets not_admitted (with ref); an invalid say gets invalid_message and is not broadcast', async () => {
    const { url } = await startServer(['--chat', '--capacity', '1']);
    const a = await member(url);
    const queued = await TestClient.placed(`${url}/rooms/main`);
    expect(queued.lastStatus!.status).toBe('queued');
    queued.send({ type: 'say', id: 'q1', text: 'let me in' });
    expect(await queued.next((m) => m.type === 'error')).toMatchObject({ code: 'not_admitted', ref: 'q1' });
    queued.send({ type: 'typing', state: true });
    expect(await queued.next((m) => m.type === 'error')).toMatchObject({ code: 'not_admitted' });
    queued.send({ type: 'history', after: 0 });
    expect(await queued.next((m) => m.type === 'error')).toMatchObject({ code: 'not_admitted' });
    a.client.send({ type: 'say', id: 'e1', text: '' });
    expect(await a.client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message', ref: 'e1' });
    a.client.send({ type: 'say', id: 'long', text: 'x'.repeat(2001) });
    expect(await a.client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message', ref: 'long' });
    a.client.send({ type: 'say', id: 'i'.repeat(65), text: 'hi' });
    const overLongId = await a.client.next((m) => m.type === 'error');
    expect(overLongId.code).toBe('invalid_message');
    expect(overLongId.ref).toBeUndefined();
    a.client.send({ type: 'say', id: 'ok', text: 'x'.repeat(2000) });
    const accepted = await a.client.next((m) => m.type === 'message');
    expect(accepted).toMatchObject({ id: 'ok', seq: 1 });
    expect(queued.messages.some((m) => m.type === 'message')).toBe(false);
  });

  it('a say with a lone surrogate is refused, so what members get and what the history keeps never differ', async () => {
    const { url } = await startServer(['--chat']);
    const a = await member(url);
    a.client.send('{"type":"say","id":"lone","text":"a\\ud800b"}');
    expect(await a.client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message', ref: 'lone' });
    a.client.send({ type: 'say', id: 'ok', text: 'a😀b' });
    expect(await a.client.next((m) => m.type === 'message')).toMatchObject({ seq: 1, id: 'ok', text: 'a😀b' });
    a.client.send({ type: 'history', after: 0 });
    const page = await a.client.next((m) => m.type === 'history');
    expect(page.messages.map((m: Message) => [m.id, m.text])).toEqual([['ok', 'a😀b']]);
  });

  it('chat counts toward the message rate limit', async () => {
    const { url } = await startServer(['--chat', '--rate-limit', '5']);
    const a = await member(url);
    for (let i = 0; i < 30; i++) a.client.send({ type: 'say', id: `r${i}`, text: 'spam' });
    expect(await a.client.next((m) => m.type === 'error')).toMatchObject({ code: 'rate_limited' });
    await waitFor('the burst accepted', () => messagesOf(a.client).length === 10);
    expect(messagesOf(a.client).map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
  });

  it('typing goes to the other members, and stops when that member’s message arrives', async () => {
    const { url } = await startServer(['--chat']);
    const a = await member(url);
    const b = await member(url);
    a.client.send({ type: 'typing', state: true });
    expect(await b.client.next((m) => m.type === 'typing')).toMatchObject({ from: { user: a.session }, state: true });
    a.client.send({ type: 'say', id: '1', text: 'done' });
    await b.client.next((m) => m.type === 'message');
    expect(await b.client.next((m) => m.type === 'typing')).toMatchObject({ from: { user: a.session }, state: false });
    expect(a.client.messages.some((m) => m.type === 'typing')).toBe(false);
  });

  it('presence: members on admission, then left when a member goes', async () => {
    const { url } = await startServer(['--chat']);
    const a = await member(url);
    const b = await TestClient.open(`${url}/rooms/main`);
    const bStatus = await b.next((m) => m.type === 'status' && m.status === 'active');
    const members = await b.next((m) => m.type === 'presence');
    expect(members.members.map((m: Message) => m.user)).toEqual([a.session, bStatus.session]);
    b.send({ type: 'leave' });
    expect((await a.client.next((m) => m.type === 'presence' && m.left)).left.user).toBe(bStatus.session);
  });

  it('history: the last 50 on admission with more, pages before a seq, and everything after one', async () => {
    const { url } = await startServer(['--chat', '--rate-limit', '1000']);
    const a = await member(url);
    for (let i = 1; i <= 60; i++) a.client.send({ type: 'say', id: `m${i}`, text: `${i}` });
    await waitFor('60 acknowledgements', () => messagesOf(a.client).length === 60, 10_000);
    const b = await member(url);
    expect(b.history.messages.map((m: Message) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    expect(b.history.more).toBe(true);
    b.client.send({ type: 'history', before: 11, limit: 200 });
    const older = await b.client.next((m) => m.type === 'history');
    expect(older.messages.map((m: Message) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(older.more).toBe(false);
    b.client.send({ type: 'history', before: 5, limit: 2 });
    expect(await b.client.next((m) => m.type === 'history')).toMatchObject({ messages: [{ seq: 3 }, { seq: 4 }], more: true });
    b.client.send({ type: 'history', after: 57 });
    const after = await b.client.next((m) => m.type === 'history');
    expect(after.messages.map((m: Message) => m.seq)).toEqual([58, 59, 60]);
    b.client.send({ type: 'history', before: 5 });
    expect(await b.client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message' });
  });

  it('a history answer pays for its size in the rate limit, so a member cannot make the server send megabytes per message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-chat-'));
    try {
      const db = openAnteroomDatabase(dir);
      const history = new ChatHistory(db);
      for (let seq = 1; seq <= 1000; seq++) history.add('main', { seq, id: `m${seq}`, from: { user: 'u', name: 'U' }, text: 'x'.repeat(2000), at: 1 }, 1000);
      db.close();
      const { url } = await startServer(['--chat', '--data-dir', dir, '--rate-limit', '5', '--outbound-budget', String(64 * 1024 * 1024)]);
      const a = await member(url);
      // A small page costs the one message it is.
      a.client.send({ type: 'history', before: 1001, limit: 5 });
      expect((await a.client.next((m) => m.type === 'history')).messages).toHaveLength(5);
      a.client.send({ type: 'ping' });
      await a.client.next((m) => m.type === 'pong');
      // About 2 M characters: 31 tokens more, past what the burst of 10 has left, so what follows waits for them.
      a.client.send({ type: 'history', after: 0 });
      expect((await a.client.next((m) => m.type === 'history', 15_000)).messages).toHaveLength(1000);
      a.client.send({ type: 'ping' });
      const refused = await a.client.next((m) => m.type === 'error' || m.type === 'pong');
      expect(refused).toMatchObject({ type: 'error', code: 'rate_limited' });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await closeAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('historyLimit keeps only the newest messages', async () => {
    const { url } = await startServer(['--chat', '--history-limit', '5']);
    const a = await member(url);
    for (let i = 1; i <= 8; i++) a.client.send({ type: 'say', id: `m${i}`, text: `${i}` });
    await waitFor('8 acknowledgements', () => messagesOf(a.client).length === 8);
    a.client.send({ type: 'history', after: 0 });
    const page = await a.client.next((m) => m.type === 'history');
    expect(page.messages.map((m: Message) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(page.more).toBe(false);
  });

  it('history after answers at most 1000 messages at once; asking again after the last gets the rest', async () => {
    const { url } = await startServer(['--chat', '--history-limit', '2000', '--rate-limit', '100000']);
    const a = await member(url);
    for (let i = 1; i <= 1100; i++) a.client.send({ type: 'say', id: `m${i}`, text: 'x' });
    await waitFor('1100 acknowledgements', () => messagesOf(a.client).length === 1100, 15_000);
    a.client.send({ type: 'history', after: 0 });
    const first = await a.client.next((m) => m.type === 'history');
    expect(first.messages.map((m: Message) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    a.client.send({ type: 'history', after: 1000 });
    const rest = await a.client.next((m) => m.type === 'history');
    expect(rest.messages.map((m: Message) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1001));
    expect(rest.more).toBe(true);
  });

  it('hello: the version and features; an unknown version gets unsupported_version; a room without chat refuses chat', async () => {
    const { url } = await startServer([]);
    const client = await TestClient.placed(`${url}/rooms/main`);
    client.send({ type: 'hello', v: 2 });
    const hello = await client.next((m) => m.type === 'hello');
    expect(hello).toMatchObject({ v: 2, features: [] });
    expect(hello.server).toMatch(/^anteroom\//);
    client.send({ type: 'hello', v: 3 });
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'unsupported_version' });
    client.send({ type: 'say', id: 'n', text: 'anyone?' });
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'not_admitted', ref: 'n' });
    client.send({ type: 'nonsense', id: 'r1' });
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown_type', ref: 'r1' });
    const live = await startServer(['--chat']);
    const member2 = await TestClient.placed(`${live.url}/rooms/main`);
    member2.send({ type: 'hello', v: 2 });
    expect((await member2.next((m) => m.type === 'hello')).features).toEqual(['chat']);
  });

  it('an error answering hello, history or chat in a room without it repeats the message id as ref', async () => {
    const { url } = await startServer([]);
    const plain = await TestClient.placed(`${url}/rooms/main`);
    plain.send({ type: 'hello', v: 1, id: 'h1' });
    expect(await plain.next((m) => m.type === 'error')).toMatchObject({ code: 'unsupported_version', ref: 'h1' });
    plain.send({ type: 'typing', state: true, id: 't1' });
    expect(await plain.next((m) => m.type === 'error')).toMatchObject({ code: 'not_admitted', ref: 't1' });
    const live = await startServer(['--chat', '--capacity', '1']);
    await member(live.url);
    const queued = await TestClient.placed(`${live.url}/rooms/main`);
    queued.send({ type: 'history', after: 0, id: 'p1' });
    expect(await queued.next((m) => m.type === 'error')).toMatchObject({ code: 'not_admitted', ref: 'p1' });
  });

  it('a restart with --data-dir keeps the history and goes on with the next seq', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-chat-'));
    try {
      const first = await startServer(['--chat', '--data-dir', dir]);
      const a = await member(first.url);
      for (let i = 1; i <= 3; i++) a.client.send({ type: 'say', id: `m${i}`, text: `before ${i}` });
      await waitFor('3 acknowledgements', () => messagesOf(a.client).length === 3);
      await first.close();
      const second = await startServer(['--chat', '--data-dir', dir]);
      const b = await member(second.url);
      expect(b.history.messages.map((m: Message) => [m.seq, m.text])).toEqual([
        [1, 'before 1'],
        [2, 'before 2'],
        [3, 'before 3'],
      ]);
      b.client.send({ type: 'say', id: 'm1', text: 'after' });
      expect(await b.client.next((m) => m.type === 'message')).toMatchObject({ seq: 4, text: 'after' });
      b.client.send({ type: 'hello', v: 2 });
      expect((await b.client.next((m) => m.type === 'hello')).features).toEqual(['chat', 'durable']);
      await second.close();
      // The kept log replays across the restart: the recovered room goes on from its recorded seed.
      const log = await readDataDirLog(dir);
      expect(log.records.find((r) => r.kind === 'room.recovered')).toMatchObject({ data: { chat: { seq: 3 } } });
      expect(replay(log.records, log.seed ? { seed: log.seed } : {})).toMatchObject({ ok: true });
    } finally {
      await closeAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after a crash that lost log records of stored messages, numbering goes on after the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-chat-store-'));
    try {
      const first = await startServer(['--chat', '--data-dir', dir]);
      const a = await member(first.url);
      a.client.send({ type: 'say', id: 'm1', text: 'logged' });
      await a.client.next((m) => m.type === 'message');
      await first.close();
      // A message the store kept but the log did not (the store is written as the room decides, before the commit).
      const db = openAnteroomDatabase(dir);
      new ChatHistory(db).add('main', { seq: 2, id: 'm2', from: { user: 'u', name: 'U' }, text: 'stored only', at: 1 }, 1000);
      db.close();
      const second = await startServer(['--chat', '--data-dir', dir]);
      const b = await member(second.url);
      expect(b.history.messages.map((m: Message) => m.seq)).toEqual([1, 2]);
      b.client.send({ type: 'say', id: 'm3', text: 'after' });
      expect(await b.client.next((m) => m.type === 'message')).toMatchObject({ seq: 3 });
      await second.close();
      const log = await readDataDirLog(dir);
      expect(replay(log.records, log.seed ? { seed: log.seed } : {})).toMatchObject({ ok: true });
    } finally {
      await closeAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('its event log replays to the same decisions, message seqs and texts included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-chat-log-'));
    try {
      const live = await startServer(['--chat', '--capacity', '2', '--event-log', join(dir, 'events.jsonl')]);
      const a = await member(live.url);
      const b = await member(live.url);
      const queued = await TestClient.placed(`${live.url}/rooms/main`);
      a.client.send({ type: 'typing', state: true });
      a.client.send({ type: 'say', id: '1', text: 'one' });
      b.client.send({ type: 'say', id: '1', text: 'two' });
      a.client.send({ type: 'say', id: '1', text: 'one again' });
      queued.send({ type: 'say', id: 'q', text: 'me too' });
      await queued.next((m) => m.type === 'error');
      await waitFor('both messages at b', () => messagesOf(b.client).length === 2);
      a.client.send({ type: 'leave' });
      await queued.next((m) => m.type === 'history');
      await live.close();
      const { records } = await readEventLog(join(dir, 'events.jsonl'));
      expect(records.filter((r) => r.kind === 'said').map((r) => [r.data.seq, r.data.text])).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
      expect(replay(records)).toMatchObject({ ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('log lines about a message carry its id as a correlation id', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('debug', false, { write: (chunk: string) => chunk.split('\n').filter(Boolean).forEach((line) => lines.push(JSON.parse(line))) });
    const { url } = await startServer(['--chat', '--capacity', '1'], { logger });
    const a = await member(url);
    const queued = await TestClient.placed(`${url}/rooms/main`);
    a.client.send({ type: 'say', id: 'corr-1', text: 'hi' });
    a.client.send({ type: 'say', id: 'corr-1', text: 'hi' });
    queued.send({ type: 'say', id: 'corr-2', text: 'me?' });
    await queued.next((m) => m.type === 'error');
    await waitFor('three chat log lines', () => lines.filter((line) => 'correlationId' in line).length === 3);
    // Two sockets: their lines may interleave either way, so compared in a fixed order.
    expect(lines.filter((line) => 'correlationId' in line).map((line) => [line.msg, line.correlationId]).sort()).toEqual([
      ['chat message', 'corr-1'],
      ['chat message repeated', 'corr-1'],
      ['chat refused: not admitted', 'corr-2'],
    ].sort());
  });
});
