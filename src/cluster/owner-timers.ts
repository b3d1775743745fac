import type { AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand } from '../../machines/admission/admission-types.js';

/** A timer a room's owner must arm: `command` at `at` (ms epoch). */
export interface DueTimer {
  at: number;
  command: AdmissionCommand;
}

/**
 * The timers a room's state needs, read from the state alone: a new owner arms them after a failover, since
 * the old owner's timers died with it. Each names the hold or seat it is for, so one that no longer applies
 * decides nothing (see `decide`). O(seats + places).
 */
export function dueTimers(state: Readonly<AdmissionState>): DueTimer[] {
  const due: DueTimer[] = [];
  for (const [, waiter] of state.queue.entries()) {
    if (waiter.holdUntil !== null) due.push({ at: waiter.holdUntil, command: { type: 'expireHold', session: waiter.session, expiresAt: waiter.holdUntil } });
  }
  for (const [conn, seat] of state.seats) {
    if (seat.holdUntil != null) due.push({ at: seat.holdUntil, command: { type: 'expireSeatHold', session: seat.session, expiresAt: seat.holdUntil } });
    if (seat.siteUntil !== undefined) due.push({ at: seat.siteUntil, command: { type: 'expireSiteSession', session: seat.session, until: seat.siteUntil } });
    if (seat.ttlUntil !== null) due.push({ at: seat.ttlUntil, command: { type: 'expireSeat', conn, ttlUntil: seat.ttlUntil } });
  }
  if (state.pacedDueAt !== null) due.push({ at: state.pacedDueAt, command: { type: 'promote' } });
  return due;
}
