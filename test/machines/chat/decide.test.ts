import { describe, expect, it } from 'vitest';
import { createChatState, presentMembers, type ChatState } from '../../../machines/chat/chat-state.js';
import { typingTimeoutMs, type ChatCommand, type ChatDecision } from '../../../machines/chat/chat-types.js';
import { decideChat } from '../../../machines/chat/decide.js';
import { evolveChat } from '../../../machines/chat/evolve.js';

// Naming: user `u` is present on connections `u1`, `u2`…; users are named after themselves in capitals.

const join = (conn: string, user = conn.replace(/\d+$/, '')): ChatCommand => ({ type: 'chat.join', conn, user, name: user.toUpperCase() });
const leave = (conn: string): ChatCommand => ({ type: 'chat.leave', conn });
const say = (conn: string, id: string, text = `text of ${id}`): ChatCommand => ({ type: 'chat.say', conn, id, text });
const typing = (conn: string, state: boolean): ChatCommand => ({ type: 'chat.typing', conn, state });

/** A live room after `commands`, each decided and applied at time 0. */
function given(...commands: ChatCommand[]): ChatState {
  const state = createChatState(1000);
  for (const command of commands) when(state, command);
  return state;
}

/** The decisions of `command` at `at`, applied to the state. */
function when(state: ChatState, command: ChatCommand, at = 0): ChatDecision[] {
  const decisions = decideChat(state, command, at);
  for (const decision of decisions) evolveChat(state, decision);
  return decisions;
}

describe('chat decider: presence', () => {
  it('a first connection joins the member; a second of the same person is a silent handover', () => {
    const state = given();
    expect(when(state, join('a1'))).toEqual([{ type: 'memberJoined', conn: 'a1', user: 'a', name: 'A', first: true }]);
    expect(when(state, join('a2'))).toEqual([{ type: 'memberJoined', conn: 'a2', user: 'a', name: 'A', first: false }]);
    expect(when(state, join('a2'))).toEqual([]);
    expect(presentMembers(state)).toEqual([{ user: 'a', name: 'A' }]);
  });

  it('the member leaves only when their last connection ends', () => {
    const state = given(join('a1'), join('a2'), join('b1'));
    expect(when(state, leave('a1'))).toEqual([{ type: 'memberLeft', conn: 'a1', user: 'a', name: 'A', last: false }]);
    expect(presentMembers(state).map((m) => m.user)).toEqual(['a', 'b']);
    expect(when(state, leave('a2'))).toEqual([{ type: 'memberLeft', conn: 'a2', user: 'a', name: 'A', last: true }]);
    expect(presentMembers(state).map((m) => m.user)).toEqual(['b']);
    expect(when(state, leave('a2'))).toEqual([]);
  });

  it('a member who leaves while typing stops typing first', () => {
    const state = given(join('a1'), typing('a1', true));
    expect(when(state, leave('a1')).map((d) => d.type)).toEqual(['typingChanged', 'memberLeft']);
    expect(state.typing.size).toBe(0);
  });
});

describe('chat decider: say', () => {
  it('a member’s say gets the next seq, with their identity and the time', () => {
    const state = given(join('a1'), join('b1'), say('b1', 'x'));
    expect(when(state, say('a1', 'm', 'hello'), 1234)).toEqual([
      { type: 'said', conn: 'a1', seq: 2, id: 'm', user: 'a', name: 'A', text: 'hello', at: 1234 },
    ]);
    expect(state.seq).toBe(2);
  });

  it('a say whose id its user already used is sent again, not stored again; another user may use the same id', () => {
    const state = given(join('a1'), join('a2'), join('b1'), say('a1', 'm'));
    expect(when(state, say('a2', 'm'))).toEqual([{ type: 'sayRepeated', conn: 'a2', seq: 1, id: 'm' }]);
    expect(when(state, say('b1', 'm'))).toMatchObject([{ type: 'said', seq: 2, user: 'b' }]);
    expect(state.seq).toBe(2);
  });

  it('no user and id together can pass for another user’s: a NUL in either does not make another user’s retry', () => {
    // A JWT's sub may hold any character, and an id may hold NUL: ("a", "b\0c") and ("a\0b", "c") are two users' ids.
    const state = given(join('x1', 'a'), join('y1', 'a\u0000b'), say('x1', 'b\u0000c', 'only for a'));
    expect(when(state, say('y1', 'c'))).toMatchObject([{ type: 'said', seq: 2, user: 'a\u0000b', text: 'text of c' }]);
  });

  it('a connection that is not a member is refused, with the say’s id as ref', () => {
    const state = given(join('a1'), leave('a1'));
    expect(when(state, say('a1', 'm'))).toEqual([{ type: 'chatRefused', conn: 'a1', code: 'not_admitted', ref: 'm' }]);
    expect(when(state, typing('q1', true))).toEqual([{ type: 'chatRefused', conn: 'q1', code: 'not_admitted', ref: null }]);
    expect(state.seq).toBe(0);
  });

  it('ids are remembered for as many messages as the history keeps', () => {
    const state = createChatState(2);
    for (const command of [join('a1'), say('a1', '1'), say('a1', '2'), say('a1', '3')]) when(state, command);
    expect(when(state, say('a1', '2'))).toMatchObject([{ type: 'sayRepeated', seq: 2 }]);
    expect(when(state, say('a1', '1'))).toMatchObject([{ type: 'said', seq: 4 }]);
  });

  it('goes on from a seed after a restart: the next seq, and the ids already used', () => {
    const state = createChatState(1000, { seq: 7, said: [['a', 'm', 7]] });
    when(state, join('a1'));
    expect(when(state, say('a1', 'm'))).toEqual([{ type: 'sayRepeated', conn: 'a1', seq: 7, id: 'm' }]);
    expect(when(state, say('a1', 'n'))).toMatchObject([{ type: 'said', seq: 8 }]);
  });
});

describe('chat decider: typing', () => {
  it('typing:true starts typing until 5 s later; again while typing only moves that time', () => {
    const state = given(join('a1'));
    expect(when(state, typing('a1', true), 100)).toEqual([{ type: 'typingChanged', user: 'a', name: 'A', state: true, until: 100 + typingTimeoutMs }]);
    expect(when(state, typing('a1', true), 2000)).toEqual([{ type: 'typingExtended', user: 'a', until: 2000 + typingTimeoutMs }]);
  });

  it('stops when the due time it was armed for comes, and a stale due time decides nothing', () => {
    const state = given(join('a1'));
    when(state, typing('a1', true), 0);
    when(state, typing('a1', true), 3000);
    expect(when(state, { type: 'chat.typingExpire', user: 'a', until: typingTimeoutMs }, typingTimeoutMs)).toEqual([]);
    expect(when(state, { type: 'chat.typingExpire', user: 'a', until: 3000 + typingTimeoutMs }, 3000 + typingTimeoutMs)).toEqual([
      { type: 'typingChanged', user: 'a', name: 'A', state: false, until: null },
    ]);
  });

  it('stops when the member’s message arrives, right after it', () => {
    const state = given(join('a1'), typing('a1', true));
    expect(when(state, say('a1', 'm')).map((d) => d.type)).toEqual(['said', 'typingChanged']);
  });

  it('typing:false stops typing; when not typing it decides nothing', () => {
    const state = given(join('a1'), typing('a1', true));
    expect(when(state, typing('a1', false))).toMatchObject([{ type: 'typingChanged', state: false }]);
    expect(when(state, typing('a1', false))).toEqual([]);
  });
});
