/**
 * Admission pacing: at most `admissionRate` admissions per second, as a token bucket holding at most
 * max(1, rate) admissions, kept as its theoretical arrival time (GCRA). The bucket is a pure function of the
 * room's past admissions and their times, so a replay that makes the same admissions at the same recorded
 * times paces exactly as the live room did.
 */

/** The bucket's state: the time (ms epoch) by which it would be empty again; 0 = full. */
export interface Pacing {
  admissionRate: number;
  /** Theoretical arrival time of the next admission, ms epoch. */
  nextAt: number;
}

/** Milliseconds one admission adds to the bucket's debt. */
function intervalMs(rate: number): number {
  return 1000 / rate;
}

/** How far ahead of its theoretical time an admission may come (the burst), ms. */
function burstMs(rate: number): number {
  return (Math.max(1, rate) - 1) * intervalMs(rate);
}

/** Whether the bucket allows an admission at `now` (ms epoch). Always true without a rate. */
export function paceAllows(pacing: Pacing, now: number): boolean {
  if (pacing.admissionRate <= 0) return true;
  return pacing.nextAt - burstMs(pacing.admissionRate) <= now;
}

/** The bucket after an admission at `at` (ms epoch). */
export function paceAfterAdmission(pacing: Pacing, at: number): Pacing {
  if (pacing.admissionRate <= 0) return pacing;
  return { admissionRate: pacing.admissionRate, nextAt: Math.max(pacing.nextAt, at) + intervalMs(pacing.admissionRate) };
}

/**
 * The first whole millisecond (ms epoch) at which the bucket allows an admission again; `now` when it
 * already does.
 */
export function paceDueAt(pacing: Pacing, now: number): number {
  if (paceAllows(pacing, now)) return now;
  return Math.ceil(pacing.nextAt - burstMs(pacing.admissionRate));
}
