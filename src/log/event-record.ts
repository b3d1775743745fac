import type { AdmissionDecision, AdmissionDecisionType } from '../../machines/admission/admission-types.js';
import { chatDecisionTypes, type ChatDecision, type ChatSeed } from '../../machines/chat/chat-types.js';
import type { RoomDecision } from '../../machines/room.machine.js';
import type { CloseReasonName } from '../../machines/close-reasons.js';
import type { RoomConfig } from '../config/server-config.js';
import type { InboundMessage, RoomAdminCommand } from '../rooms/room-inputs.js';

/**
 * The format version every record carries as `v`. Records without one were written by version 1, before
 * decisions carried their due times; `upgradeRecord` reads them.
 */
export const logFormatVersion = 2;

interface RecordBase {
  /** Format version (`logFormatVersion` when written by this release). */
  v: number;
  /** Strictly increasing across the log; replay orders by it alone. */
  seq: number;
  /** When it happened, ms epoch: the time the room decided by for inputs, and the time of their input for decisions. */
  at: number;
  room: string;
}

type Input<K extends string, C, D> = RecordBase & { kind: K; conn: C; data: D };

/** External inputs: everything that reached the actors from outside. Replay feeds these back in. */
export type InputRecord =
  /** A room started: at server start, or created at run time by an operator (`createdBy: "operator"`). */
  /** `chat`: where a live room's chat goes on from (present when its history store already held messages). */
  | Input<'room.opened', null, { settings: RoomConfig; createdBy?: 'operator'; chat?: ChatSeed }>
  /** An operator removed the room at run time (after closing it): it takes no more inputs. */
  | Input<'room.removed', null, Record<string, never>>
  /**
   * The server started again on a data dir and the room goes on from the state it recovered (the fold of the
   * log so far: a snapshot plus the tail), with its connections gone. `settings`: as configured at this start.
   */
  | Input<'room.recovered', null, { settings: RoomConfig; chat?: ChatSeed }>
  /**
   * A socket opened. `resume`: the session named by a resume token presented at the upgrade (null: a token
   * that is not valid; absent: none presented). `priority`: from a verified join ticket, present only above 0.
   */
  | Input<'connected', string, { session: string; resume?: string | null; priority?: number }>
  | Input<'message', string, InboundMessage>
  | Input<'pong', string, Record<string, never>>
  /** The server closes the connection for what the client did (binary frame, flood, protocol error…). */
  | Input<'fault', string, { reason: CloseReasonName }>
  | Input<'closed', string, { code: number }>
  | Input<'overflow', string, Record<string, never>>
  /** A timer of an actor fired: the `timer`-th it armed (the room's own timers have `conn` null). */
  | Input<'timer', string | null, { timer: number }>
  | Input<'config', null, RoomAdminCommand>;

type DecisionRecordOf<D extends RoomDecision> = D extends unknown
  ? RecordBase & { kind: D['type']; conn: D extends { conn: infer C } ? C : null; data: Omit<D, 'type' | 'conn'> }
  : never;

/** A decision of a room's admission actor, as recorded: `kind` is its type, `conn` its connection. */
export type DecisionRecord = DecisionRecordOf<AdmissionDecision>;

/** A decision of a live room about chat (presence, messages, typing), as recorded. */
export type ChatRecord = DecisionRecordOf<ChatDecision>;

/** One line of the event log. */
export type EventRecord = InputRecord | DecisionRecord | ChatRecord;
export type EventKind = EventRecord['kind'];
export type InputKind = InputRecord['kind'];
export type RecordOf<K extends EventKind> = Extract<EventRecord, { kind: K }>;

/** The kinds of input records, in no particular order: everything else in a log is a decision. */
export const inputKinds = ['room.opened', 'room.removed', 'room.recovered', 'connected', 'message', 'pong', 'fault', 'closed', 'overflow', 'timer', 'config'] as const satisfies readonly InputKind[];

const inputKindSet: ReadonlySet<string> = new Set(inputKinds);

/** Whether a record is an input (fed to replay) rather than a decision (compared by replay). */
export function isInputRecord(record: EventRecord): record is InputRecord {
  return inputKindSet.has(record.kind);
}

const chatKindSet: ReadonlySet<string> = new Set(chatDecisionTypes);

/** Whether a record is a room's admission decision (about places and seats). */
export function isDecisionRecord(record: EventRecord): record is DecisionRecord {
  return !inputKindSet.has(record.kind) && !chatKindSet.has(record.kind);
}

/** Whether a record is a live room's chat decision. */
export function isChatRecord(record: EventRecord): record is ChatRecord {
  return chatKindSet.has(record.kind);
}

/** Decisions about the room as a whole: they name no connection. */
const roomWideDecisions: ReadonlySet<RoomDecision['type']> = new Set<RoomDecision['type']>([
  'typingChanged',
  'typingExtended',
  'capacityChanged',
  'maxQueueChanged',
  'statusChanged',
  'noticeChanged',
  'admissionRateChanged',
  'paced',
  'scheduled',
  'drawn',
  'heldForRestart',
]);

/** The decision a record holds. */
export function decisionOf(record: DecisionRecord): AdmissionDecision;
export function decisionOf(record: ChatRecord): ChatDecision;
export function decisionOf(record: DecisionRecord | ChatRecord): RoomDecision {
  const decision = roomWideDecisions.has(record.kind) ? { type: record.kind, ...record.data } : { type: record.kind, conn: record.conn, ...record.data };
  return decision as RoomDecision;
}

type RecordFields = Pick<DecisionRecord | ChatRecord, 'kind' | 'conn' | 'data'>;

/** The record fields of a decision: everything but `v`, `seq`, `at` and `room`. */
export function recordFieldsOf(decision: RoomDecision): RecordFields {
  const { type, ...rest } = decision;
  if (!('conn' in rest)) return { kind: type, conn: null, data: rest } as RecordFields;
  const { conn, ...data } = rest;
  return { kind: type, conn, data } as RecordFields;
}
