import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import type { ClientMessageEvent } from '../../machines/connection.machine.js';
import type { ErrorCode } from '../protocol/codes.js';

/**
 * A client message as the actors see it, after parsing and validation at the edge: a well-formed message
 * (with a resume token already read into the session it names, or null), or a refused one, recorded for
 * incidents and changing nothing.
 */
export type InboundMessage = ClientMessageEvent | ChatMessageEvent | { type: 'invalid'; code: ErrorCode };

/**
 * Protocol v2 messages a connection does not handle itself, validated at the edge: `say` and `typing` go to the
 * room, which decides on them; `hello` and `history` are answered by the edge. Each counts as a heartbeat.
 */
export type ChatMessageEvent =
  | { type: 'say'; id: string; text: string }
  | { type: 'typing'; state: boolean }
  | { type: 'hello'; v: number }
  | { type: 'history'; before: number; limit: number }
  | { type: 'history'; after: number };

/**
 * Commands from outside the sockets a room accepts at run time: the operator's, the opening schedule's, and the
 * protected site's (`refreshSite`, `releaseSite`). Each is recorded as a `config` input.
 */
export type RoomAdminCommand = Extract<
  AdmissionCommand,
  { type: 'setCapacity' | 'setMaxQueue' | 'setNotice' | 'setAdmissionRate' | 'pause' | 'open' | 'maintenance' | 'close' | 'kick' | 'schedule' | 'draw' | 'refreshSite' | 'releaseSite' | 'holdForRestart' }
>;
