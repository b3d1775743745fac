import { createActor } from 'xstate';
import { restoreAdmission } from '../../machines/admission/admission-snapshot.js';
import { heldCount, type AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionDecision } from '../../machines/admission/admission-types.js';
import { evolve } from '../../machines/admission/evolve.js';
import { recoveredRoomSnapshot, roomMachine } from '../../machines/room.machine.js';
import type { LogEntry, LogStep } from './log-entry.js';

/** What replaying a room's stream found. */
export type StreamReplayResult =
  /** `reproduced`: decisions decided again and equal; `folded`: timer steps applied as recorded. */
  | { ok: true; entries: number; commands: number; reproduced: number; folded: number; state: AdmissionState }
  | { ok: false; message: string; step?: LogStep; actual?: AdmissionDecision[] };

/**
 * Replays a room's stream through a fresh room actor: from the empty room its first entry opened, every
 * command is decided again at its recorded time and its decisions compared with the recorded ones; the steps
 * of timers the owner's actor raised itself (no command recorded) are folded with `evolve`. Across a failover
 * the replay goes on with the same actor, as the new owner went on from the same state.
 */
export function replayStream(room: string, entries: readonly LogEntry[]): StreamReplayResult {
  const opened = entries[0]?.opened;
  if (opened === undefined) return { ok: false, message: entries.length === 0 ? `no entries for room "${room}"` : 'the stream does not start where the room opened' };
  const state = restoreAdmission(opened);
  let at = 0;
  const input = { ...state, room, now: () => at, recovered: state };
  const actor = createActor(roomMachine, { input, snapshot: recoveredRoomSnapshot(input) });
  let emitted: AdmissionDecision[] = [];
  // A cluster room has no chat (the configuration refuses one), so it decides admissions only.
  actor.on('*', (decision) => emitted.push(decision as AdmissionDecision));
  actor.start();
  let commands = 0;
  let reproduced = 0;
  let folded = 0;
  try {
    for (const step of entries.flatMap((entry) => entry.steps)) {
      if (step.command === null) {
        folded++;
        for (const decision of step.decisions) evolve(state, decision);
        continue;
      }
      at = step.at;
      emitted = [];
      actor.send(step.command);
      commands++;
      if (JSON.stringify(emitted) !== JSON.stringify(step.decisions)) {
        return { ok: false, message: `command ${step.id ?? '(the owner\'s)'} ${step.command.type} decided differently`, step, actual: emitted };
      }
      reproduced += emitted.length;
    }
  } finally {
    // Timers the replay armed must not fire after it.
    actor.stop();
  }
  return { ok: true, entries: entries.length, commands, reproduced, folded, state };
}

/** One line per result: what was reproduced and the room as the stream leaves it. */
export function formatStreamReplay(room: string, result: StreamReplayResult): string {
  if (!result.ok) {
    const detail = result.step ? `\n  recorded: ${JSON.stringify(result.step.decisions)}\n  replayed: ${JSON.stringify(result.actual)}` : '';
    return `divergence in room "${room}": ${result.message}${detail}\n`;
  }
  const { state } = result;
  return (
    `reproduced ${result.reproduced} decisions from ${result.commands} commands of room "${room}" (${result.entries} stream entries; ` +
    `${result.folded} timer steps folded)\n` +
    `room "${room}": ${state.status}, ${state.seats.size}/${state.capacity} seated, ${state.queue.size} in line (${heldCount(state)} held)\n`
  );
}
