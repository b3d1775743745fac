import type { ConnId } from '../admission/admission-types.js';
import type { ChatSeed } from './chat-types.js';

/** A member present in the room: their name and the connections they are present through. */
export interface Presence {
  name: string;
  conns: Set<ConnId>;
}

/**
 * One live room's chat: the last `seq`, who is present, who is typing, and which ids each user already used.
 * Written by `evolveChat` only, read by `decideChat`. Held by the room actor beside its admission state.
 */
export interface ChatState {
  /** The last message's seq (0: none yet). */
  seq: number;
  /** Ids remembered per room for idempotent retries: as many as the history keeps. */
  historyLimit: number;
  /** By user, in order of arrival. */
  readonly members: Map<string, Presence>;
  readonly userByConn: Map<ConnId, string>;
  /** Typing members by user: when their typing stops by itself (ms epoch). */
  readonly typing: Map<string, number>;
  /** `saidKey(user, id)` → seq of the message it made, oldest first, at most `historyLimit`. */
  readonly said: Map<string, number>;
}

/** An empty live room, or one going on after a restart from `seed`. */
export function createChatState(historyLimit: number, seed?: ChatSeed): ChatState {
  const state: ChatState = { seq: seed?.seq ?? 0, historyLimit, members: new Map(), userByConn: new Map(), typing: new Map(), said: new Map() };
  for (const [user, id, seq] of seed?.said ?? []) rememberSaid(state, user, id, seq);
  return state;
}

/**
 * The key a (user, id) pair is remembered under: JSON, so no pair can pass for another (a separator such as NUL
 * could sit inside a JWT's `sub` or an id, making one user's id match another user's).
 */
export function saidKey(user: string, id: string): string {
  return JSON.stringify([user, id]);
}

/** Remembers that `user` used `id` for message `seq`, forgetting the oldest beyond `historyLimit`. */
export function rememberSaid(state: ChatState, user: string, id: string, seq: number): void {
  state.said.set(saidKey(user, id), seq);
  while (state.said.size > state.historyLimit) state.said.delete(state.said.keys().next().value!);
}

/** The members present, in order of arrival, as presence entries. */
export function presentMembers(state: ChatState): { user: string; name: string }[] {
  return [...state.members].map(([user, presence]) => ({ user, name: presence.name }));
}
