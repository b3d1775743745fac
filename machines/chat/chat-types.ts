import type { ConnId } from '../admission/admission-types.js';

/** A member as others see them: `user` is the identity, `name` what is shown. Protocol v2 section 6. */
export interface Member {
  user: string;
  name: string;
}

/** Longest client message id of a `say`, in UTF-16 units (protocol v2 section 6). */
export const maxSayIdLength = 64;
/** Longest `say` text, in UTF-16 units (protocol v2 section 6). */
export const maxSayTextLength = 2000;
/** A member who said `typing:true` and nothing since stops typing this long after, ms (protocol v2 section 6). */
export const typingTimeoutMs = 5000;
/** How many of the newest messages a member gets on admission (protocol v2 section 6). */
export const admissionHistorySize = 50;
/** Largest page a `history before` may ask for (protocol v2 section 6). */
export const maxHistoryPage = 200;
/**
 * Most messages one `history after` answer holds, so one answer stays one bounded frame whatever `historyLimit`
 * is: a client that gets this many asks again after the last.
 */
export const maxHistoryAfter = 1000;
/** Messages kept per room when the room does not say (`historyLimit`). */
export const defaultHistoryLimit = 1000;

/**
 * What a live room is asked to do. `chat.join` and `chat.leave` come from the room's own admission decisions
 * (a seat taken, handed over or ended); `chat.say` and `chat.typing` from a member's messages; `chat.typingExpire`
 * from the room's clock, `typingTimeoutMs` after the typing it was armed for (`until` names it).
 */
export type ChatCommand =
  | { type: 'chat.join'; conn: ConnId; user: string; name: string }
  | { type: 'chat.leave'; conn: ConnId }
  | { type: 'chat.say'; conn: ConnId; id: string; text: string }
  | { type: 'chat.typing'; conn: ConnId; state: boolean }
  | { type: 'chat.typingExpire'; user: string; until: number };

/**
 * What a live room decided. Recorded in the event log like admission decisions; `said` holds the text, so the
 * log alone replays the room (the history store holds it a second time, for readers).
 */
export type ChatDecision =
  /** `conn` became a member's connection; `first`: the member was not present before (presence `joined`). */
  | { type: 'memberJoined'; conn: ConnId; user: string; name: string; first: boolean }
  /** `conn` is no longer a member's; `last`: it was the member's last connection (presence `left`). */
  | { type: 'memberLeft'; conn: ConnId; user: string; name: string; last: boolean }
  /** A `say` was accepted as message `seq` (per room, from 1, strictly increasing) at `at` (ms epoch). */
  | { type: 'said'; conn: ConnId; seq: number; id: string; user: string; name: string; text: string; at: number }
  /** A `say` repeated an id its user already used: message `seq` is sent again, to that connection only. */
  | { type: 'sayRepeated'; conn: ConnId; seq: number; id: string }
  /** A member started (`until`: when it stops by itself, ms epoch) or stopped (`until` null) typing. */
  | { type: 'typingChanged'; user: string; name: string; state: boolean; until: number | null }
  /** A member still typing said so again: it now stops by itself at `until` (nobody is told). */
  | { type: 'typingExtended'; user: string; until: number }
  /** A connection that is not a member sent chat (`ref`: the `say`'s id, else null). */
  | { type: 'chatRefused'; conn: ConnId; code: 'not_admitted'; ref: string | null };

export type ChatDecisionType = ChatDecision['type'];

/** The kinds of chat decisions, for the log: everything a room decides about chat. */
export const chatDecisionTypes = ['memberJoined', 'memberLeft', 'said', 'sayRepeated', 'typingChanged', 'typingExtended', 'chatRefused'] as const satisfies readonly ChatDecisionType[];

/** What a live room starts from after a restart: the last seq used, and the (user, id, seq) of the messages kept. */
export interface ChatSeed {
  seq: number;
  said: [user: string, id: string, seq: number][];
}
