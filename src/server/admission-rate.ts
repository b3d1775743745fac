/**
 * Estimates how long a waiter will wait from the recent pace of admissions from the queue: the last `window`
 * admission times give a rate, and a place's ETA is its position over that rate.
 */
export class AdmissionRate {
  private readonly times: Float64Array;
  private count = 0;

  constructor(window = 50) {
    this.times = new Float64Array(window);
  }

  record(nowMs: number): void {
    this.times[this.count % this.times.length] = nowMs;
    this.count++;
  }

  /** Milliseconds until `position` is admitted at the recent pace, or null with too little history. */
  etaMs(position: number, nowMs: number): number | null {
    const samples = Math.min(this.count, this.times.length);
    if (samples < 2) return null;
    const oldest = this.times[(this.count - samples) % this.times.length]!;
    const elapsed = nowMs - oldest;
    if (elapsed <= 0) return null;
    const perMs = samples / elapsed;
    return Math.round(position / perMs);
  }
}
