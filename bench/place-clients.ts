/** How a batch of bench clients was placed. */
export interface Placement {
  placed: number;
  failed: number;
  /** From the first connect to the last first message, ms. */
  placeMs: number;
}

/** Tells the caller each client's first answer: `ok` (placed or not) and when it came (performance.now() ms). */
export type PlacedListener = (ok: boolean, firstAt: number) => void;

/**
 * Opens `count` clients with `open`, `concurrency` at a time (the next opens when one is placed or fails), or
 * all of them spread evenly over `spreadMs`, and resolves once every one has answered. `listen` is handed the
 * listener the caller's clients report to, and null once done.
 *
 * @throws (rejects) when they have not all answered within `timeoutMs`.
 */
export function placeClients(options: {
  count: number;
  concurrency: number;
  spreadMs?: number;
  timeoutMs: number;
  open: () => void;
  listen: (listener: PlacedListener | null) => void;
}): Promise<Placement> {
  const { count, concurrency, spreadMs, timeoutMs, open, listen } = options;
  const start = performance.now();
  let launched = 0;
  let placed = 0;
  let failed = 0;
  let lastAt = start;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`placed ${placed} of ${count} within ${timeoutMs / 1000} s`)), timeoutMs);
    const launch = () => {
      if (launched >= count) return;
      launched++;
      open();
    };
    listen((ok, firstAt) => {
      if (ok) {
        placed++;
        lastAt = Math.max(lastAt, firstAt);
      } else {
        failed++;
      }
      if (placed + failed === count) {
        clearTimeout(timer);
        listen(null);
        resolve({ placed, failed, placeMs: lastAt - start });
      } else if (spreadMs === undefined) launch();
    });
    if (spreadMs === undefined) {
      for (let i = 0; i < Math.min(concurrency, count); i++) launch();
      return;
    }
    const ticker = setInterval(() => {
      const due = Math.min(count, Math.ceil(((performance.now() - start) / spreadMs) * count));
      while (launched < due) launch();
      if (launched >= count) clearInterval(ticker);
    }, 5);
  });
}
