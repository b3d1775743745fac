import type { AdmissionSnapshot } from '../../machines/admission/admission-snapshot.js';
import type { AdmissionCommand, AdmissionDecision } from '../../machines/admission/admission-types.js';

/**
 * One command the owner carried out: its id (null for the owner's own), the command (null for a timer the room
 * actor raised itself, whose decisions replay folds rather than decides), when (ms epoch on the owner's clock)
 * and its decisions, promotions included.
 */
export interface LogStep {
  id: string | null;
  command: AdmissionCommand | null;
  at: number;
  decisions: AdmissionDecision[];
}

/**
 * One message of a room's stream, appended by node `by`: the steps it carried out since its last append.
 * The first message of a room carries `opened`, the empty room it started from. Applying every step's
 * decisions in stream order with `evolve` rebuilds the room exactly.
 */
export interface LogEntry {
  by: string;
  steps: LogStep[];
  opened?: AdmissionSnapshot;
}

/** A command on its way to the owner, with the id that makes a retry harmless: `<source>#<n>`. */
export interface ForwardedCommand {
  id: string;
  command: AdmissionCommand;
}

/**
 * Where a command id comes from and its number. A source (one node's run, `<node>.<boot>`) numbers its
 * commands 1, 2, 3… and sends them in that order, so "applied up to n" per source is the whole dedupe state.
 */
export function commandSource(id: string): { source: string; n: number } | null {
  const at = id.lastIndexOf('#');
  const n = Number(id.slice(at + 1));
  return at <= 0 || !Number.isSafeInteger(n) || n < 1 ? null : { source: id.slice(0, at), n };
}

/** The highest command number applied per source: what the log says was already carried out. */
export class AppliedCommands {
  private readonly upTo = new Map<string, number>();

  /** Whether the command `id` was already applied (or is not a well-formed id, which is never applied). */
  has(id: string): boolean {
    const parsed = commandSource(id);
    return parsed === null || parsed.n <= (this.upTo.get(parsed.source) ?? 0);
  }

  add(id: string): void {
    const parsed = commandSource(id);
    if (parsed !== null && parsed.n > (this.upTo.get(parsed.source) ?? 0)) this.upTo.set(parsed.source, parsed.n);
  }

  /** As plain data, for a snapshot: `[source, highest n]`. */
  entries(): [string, number][] {
    return [...this.upTo];
  }

  static from(entries: readonly [string, number][]): AppliedCommands {
    const applied = new AppliedCommands();
    for (const [source, n] of entries) applied.upTo.set(source, n);
    return applied;
  }

  copy(): AppliedCommands {
    const copy = new AppliedCommands();
    for (const [source, n] of this.upTo) copy.upTo.set(source, n);
    return copy;
  }
}

/**
 * A room as its log stood at stream sequence `seq`: what a node starting afresh goes on from, so it reads only
 * the log after it. Written by the owner every `--snapshot-records` entries.
 */
export interface RoomSnapshot {
  seq: number;
  admission: AdmissionSnapshot;
  applied: [string, number][];
}

/** Reads a stream message's entry; null for a message that is not one (never applied). */
export function parseLogEntry(data: Uint8Array): LogEntry | null {
  try {
    const entry = JSON.parse(new TextDecoder().decode(data)) as LogEntry;
    if (typeof entry.by !== 'string' || !Array.isArray(entry.steps)) return null;
    const wellFormed = (step: LogStep) => typeof step?.at === 'number' && Array.isArray(step.decisions) && (step.id === null || typeof step.id === 'string');
    return entry.steps.every(wellFormed) ? entry : null;
  } catch {
    return null;
  }
}
