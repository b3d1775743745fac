import type { AdmissionState } from './admission-state.js';
import type { AdmissionCommand, AdmissionDecision } from './admission-types.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';

/** Decides `command` at `now` and applies each decision in order; returns them. */
export function step(state: AdmissionState, command: AdmissionCommand, now: number): AdmissionDecision[] {
  const decisions = decide(state, command, now);
  for (const decision of decisions) evolve(state, decision);
  return decisions;
}

/**
 * One command as the room carries it out: its decisions, then the promotions they make possible (none while
 * the room is not open). For code that runs the rules without the room actor: tests, the what-if.
 */
export function settle(state: AdmissionState, command: AdmissionCommand, now: number): AdmissionDecision[] {
  const decisions = step(state, command, now);
  if (command.type !== 'promote') decisions.push(...step(state, { type: 'promote' }, now));
  return decisions;
}
