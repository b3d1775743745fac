import type { ChatState } from './chat-state.js';
import { saidKey } from './chat-state.js';
import { typingTimeoutMs, type ChatCommand, type ChatDecision } from './chat-types.js';

/**
 * The live-room rules (protocol v2 section 6): what the room decides when asked `command` at `now` (ms epoch on
 * the room's clock). Pure: it reads the state; `evolveChat` applies the decisions, in order.
 * - Only members chat: anyone else is refused (`not_admitted`).
 * - A `say` gets the next seq, unless its user already used its id: then the original is sent again.
 * - Presence changes only when a person's first connection arrives or last one ends (handovers are silent).
 * - Typing stops `typingTimeoutMs` after the last `typing:true`, when the member's message arrives, or when
 *   the member leaves.
 */
export function decideChat(state: ChatState, command: ChatCommand, now: number): ChatDecision[] {
  switch (command.type) {
    case 'chat.join': {
      if (state.userByConn.has(command.conn)) return [];
      const first = !state.members.has(command.user);
      return [{ type: 'memberJoined', conn: command.conn, user: command.user, name: command.name, first }];
    }
    case 'chat.leave':
      return leave(state, command.conn);
    case 'chat.say':
      return say(state, command.conn, command.id, command.text, now);
    case 'chat.typing':
      return typing(state, command.conn, command.state, now);
    case 'chat.typingExpire':
      return state.typing.get(command.user) === command.until ? stopTyping(state, command.user) : [];
  }
}

function leave(state: ChatState, conn: string): ChatDecision[] {
  const user = state.userByConn.get(conn);
  if (user === undefined) return [];
  const presence = state.members.get(user)!;
  const last = presence.conns.size === 1;
  const out: ChatDecision[] = last && state.typing.has(user) ? stopTyping(state, user) : [];
  out.push({ type: 'memberLeft', conn, user, name: presence.name, last });
  return out;
}

function say(state: ChatState, conn: string, id: string, text: string, now: number): ChatDecision[] {
  const user = state.userByConn.get(conn);
  if (user === undefined) return [{ type: 'chatRefused', conn, code: 'not_admitted', ref: id }];
  const original = state.said.get(saidKey(user, id));
  if (original !== undefined) return [{ type: 'sayRepeated', conn, seq: original, id }];
  const name = state.members.get(user)!.name;
  const out: ChatDecision[] = [{ type: 'said', conn, seq: state.seq + 1, id, user, name, text, at: now }];
  if (state.typing.has(user)) out.push(...stopTyping(state, user));
  return out;
}

function typing(state: ChatState, conn: string, on: boolean, now: number): ChatDecision[] {
  const user = state.userByConn.get(conn);
  if (user === undefined) return [{ type: 'chatRefused', conn, code: 'not_admitted', ref: null }];
  if (!on) return state.typing.has(user) ? stopTyping(state, user) : [];
  const until = now + typingTimeoutMs;
  if (state.typing.has(user)) return [{ type: 'typingExtended', user, until }];
  return [{ type: 'typingChanged', user, name: state.members.get(user)!.name, state: true, until }];
}

function stopTyping(state: ChatState, user: string): ChatDecision[] {
  return [{ type: 'typingChanged', user, name: state.members.get(user)!.name, state: false, until: null }];
}
