import type { AdmissionDecisionType } from '../../machines/admission/admission-types.js';

/** External inputs: everything that reached the actors from outside. Replay feeds these back in. */
export const inputKinds = ['room.opened', 'connected', 'message', 'pong', 'closed', 'overflow', 'timer', 'config'] as const;
export type InputKind = (typeof inputKinds)[number];

/** One line of the event log. `at` is wall-clock ms for people; replay orders by `seq` alone. */
export interface EventRecord {
  seq: number;
  at: number;
  room: string;
  kind: InputKind | AdmissionDecisionType;
  conn: string | null;
  data: Record<string, unknown>;
}

const inputKindSet: ReadonlySet<string> = new Set(inputKinds);

export function isInputRecord(record: EventRecord): boolean {
  return inputKindSet.has(record.kind);
}
