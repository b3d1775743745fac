import { rememberSaid, type ChatState } from './chat-state.js';
import type { ChatDecision } from './chat-types.js';

/**
 * Applies one chat decision to the state, in place: the only writer of a live room's chat state.
 * @throws Error when a decision names a connection that is not a member's (a log that contradicts itself).
 */
export function evolveChat(state: ChatState, decision: ChatDecision): void {
  switch (decision.type) {
    case 'memberJoined': {
      const presence = state.members.get(decision.user);
      if (presence) presence.conns.add(decision.conn);
      else state.members.set(decision.user, { name: decision.name, conns: new Set([decision.conn]) });
      state.userByConn.set(decision.conn, decision.user);
      return;
    }
    case 'memberLeft': {
      const presence = state.members.get(decision.user);
      if (!presence?.conns.delete(decision.conn)) throw new Error(`memberLeft: ${decision.conn} is not a connection of ${decision.user}`);
      if (presence.conns.size === 0) state.members.delete(decision.user);
      state.userByConn.delete(decision.conn);
      return;
    }
    case 'said':
      state.seq = decision.seq;
      rememberSaid(state, decision.user, decision.id, decision.seq);
      return;
    case 'typingChanged':
      if (decision.state) state.typing.set(decision.user, decision.until!);
      else state.typing.delete(decision.user);
      return;
    case 'typingExtended':
      state.typing.set(decision.user, decision.until);
      return;
    case 'sayRepeated':
    case 'chatRefused':
      return;
  }
}
