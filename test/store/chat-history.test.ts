import { afterEach, describe, expect, it } from 'vitest';
import { openAnteroomDatabase, type AnteroomDatabase } from '../../src/store/anteroom-database.js';
import { ChatHistory, type ChatMessage } from '../../src/store/chat-history.js';

let db: AnteroomDatabase | null = null;
afterEach(() => db?.close());

const message = (seq: number, user = 'u'): ChatMessage => ({ seq, id: `m${seq}`, from: { user, name: user.toUpperCase() }, text: `text ${seq}`, at: 1000 + seq });

/** An in-memory history holding messages 1..n of room `r` (and one of another room, which must never show). */
function given(n: number, limit = 1000): ChatHistory {
  db = openAnteroomDatabase(null);
  const history = new ChatHistory(db);
  history.add('other', message(1), limit);
  for (let seq = 1; seq <= n; seq++) history.add('r', message(seq), limit);
  return history;
}

const seqs = (page: { messages: ChatMessage[] }) => page.messages.map((m) => m.seq);

describe('chat history in SQLite', () => {
  it('answers before: the limit newest with seq < before, oldest first, and whether older ones exist', () => {
    const history = given(10);
    expect(history.before('r', 11, 3)).toMatchObject({ more: true });
    expect(seqs(history.before('r', 11, 3))).toEqual([8, 9, 10]);
    expect(seqs(history.before('r', 4, 200))).toEqual([1, 2, 3]);
    expect(history.before('r', 4, 200).more).toBe(false);
    expect(history.before('r', 1, 5)).toEqual({ messages: [], more: false });
  });

  it('answers after: everything with seq > after, oldest first', () => {
    const history = given(10);
    expect(seqs(history.after('r', 7, 1000))).toEqual([8, 9, 10]);
    expect(history.after('r', 7, 1000).more).toBe(true);
    expect(history.after('r', 10, 1000)).toEqual({ messages: [], more: true });
    expect(history.after('r', 0, 1000).more).toBe(false);
  });

  it('keeps a message as it was given: text as sent, identity, time', () => {
    const history = given(0);
    const markup = { seq: 1, id: 'x', from: { user: 'a', name: 'Ann' }, text: '<b>hi</b> & "bye"', at: 5 };
    history.add('r', markup, 10);
    expect(history.at('r', 1)).toEqual(markup);
    expect(history.at('r', 2)).toBeNull();
  });

  it('keeps only the newest historyLimit messages of a room', () => {
    const history = given(12, 5);
    expect(seqs(history.after('r', 0, 1000))).toEqual([8, 9, 10, 11, 12]);
    expect(seqs(history.after('other', 0, 1000))).toEqual([1]);
  });

  it('seeds a room after a restart: its last seq and the ids its messages used', () => {
    const history = given(3);
    history.add('r', message(4, 'v'), 1000);
    expect(history.seed('r')).toEqual({
      seq: 4,
      said: [
        ['u', 'm1', 1],
        ['u', 'm2', 2],
        ['u', 'm3', 3],
        ['v', 'm4', 4],
      ],
    });
    expect(history.seed('empty')).toEqual({ seq: 0, said: [] });
  });
});
