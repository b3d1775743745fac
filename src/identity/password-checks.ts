/**
 * Password checks running at once, and waiting. scrypt runs on libuv's thread pool (4 threads by default),
 * which the event log's and the database's file writes share: a flood of logins from many addresses, each
 * within its own rate, would otherwise fill every thread and hold up the writes every admission waits for.
 */
export class PasswordChecks {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /**
   * @param maxRunning checks on the thread pool at once (leave threads for file writes).
   * @param maxWaiting checks queued behind them; past that, `run` refuses at once.
   */
  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
  ) {}

  /** Runs `check` when a slot is free; resolves `busy` without running it when too many already wait. */
  async run<T>(check: () => Promise<T>): Promise<T | 'busy'> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) return 'busy';
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await check();
    } finally {
      // The slot passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
