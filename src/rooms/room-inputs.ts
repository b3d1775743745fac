import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import type { ClientMessageEvent } from '../../machines/connection.machine.js';
import type { ErrorCode } from '../protocol/codes.js';

/**
 * A client message as the actors see it, after parsing and validation at the edge: a well-formed message
 * (with a resume token already read into the session it names, or null), or a refused one, recorded for
 * incidents and changing nothing.
 */
export type InboundMessage = ClientMessageEvent | ChatMessageEvent | { type: 'invalid'; code: ErrorCode };

/** A live room's messages a member sends (protocol v2 section 6), validated at the edge; the room decides on them. */
export type ChatMessageEvent = { type: 'say'; id: string; text: string } | { type: 'typing'; state: boolean };

/**
 * Commands from outside the sockets a room accepts at run time: the operator's, the opening schedule's, and the
 * protected site's (`refreshSite`, `releaseSite`). Each is recorded as a `config` input.
 */
export type RoomAdminCommand = Extract<
  AdmissionCommand,
  { type: 'setCapacity' | 'setMaxQueue' | 'setNotice' | 'setAdmissionRate' | 'pause' | 'open' | 'maintenance' | 'close' | 'kick' | 'schedule' | 'draw' | 'refreshSite' | 'releaseSite' | 'holdForRestart' }
>;
