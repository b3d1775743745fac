/**
 * Where the event loop was held: a 1 ms timer notes every tick that comes late, as a window on the clock
 * V8's CPU profiles use (monotonic µs), so `bench/profile-blocks.ts` can show what ran in each window. Only
 * armed beside a CPU profile: a timer firing a thousand times a second is itself a load.
 */

/** One late tick: the window [fromUs, toUs] (monotonic µs) the loop could not run timers in, and how late it was (ms). */
export type LateTick = [fromUs: number, toUs: number, lateMs: number];

/** Notes ticks later than `thresholdMs` (ms) until `stop()`, which returns them. */
export function recordLateTicks(thresholdMs = 12): { stop: () => LateTick[] } {
  const late: LateTick[] = [];
  let running = true;
  let expected = process.hrtime.bigint() + 1_000_000n;
  const tick = () => {
    const now = process.hrtime.bigint();
    const lateMs = Number(now - expected) / 1e6;
    const toUs = Number(now / 1000n);
    if (lateMs > thresholdMs) late.push([toUs - lateMs * 1000, toUs, lateMs]);
    expected = now + 1_000_000n;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  return {
    stop: () => {
      running = false;
      return late;
    },
  };
}
