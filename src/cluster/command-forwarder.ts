import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import type { ForwardedCommand } from './log-entry.js';

/** Sends a batch to the room's owner; resolves once the owner has it in the stream, rejects otherwise. */
export type DeliverBatch = (commands: ForwardedCommand[]) => Promise<void>;

/** Most commands in one request to the owner. */
const maxBatch = 512;
/** Wait before retrying a batch no owner took (a failover, NATS away), ms. */
const defaultRetryDelayMs = 100;

/**
 * The commands this node's connections and operators address to one room, on their way to its owner. Each
 * gets an id (`<source>#<n>`, numbered in order) and they go in order, one batch at a time: a batch that no
 * owner acknowledges (timeout, no owner during a failover, NATS away) is sent again, same ids, until one
 * does, so a command is never lost, and the owner's dedupe makes sure it is never applied twice.
 */
export class CommandForwarder {
  private readonly queue: ForwardedCommand[] = [];
  private sending = false;
  private stopped = false;
  private next = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly source: string,
    private readonly deliver: DeliverBatch,
    private readonly onRetry: (error: unknown) => void = () => {},
    private readonly retryDelayMs = defaultRetryDelayMs,
  ) {}

  /** Commands waiting or on their way. */
  get backlog(): number {
    return this.queue.length;
  }

  forward(command: AdmissionCommand): void {
    if (this.stopped) return;
    this.queue.push({ id: `${this.source}#${++this.next}`, command });
    void this.send();
  }

  /** Resolves once every command forwarded so far has reached the owner. */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async send(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, maxBatch);
      try {
        await this.deliver(batch);
        this.queue.splice(0, batch.length);
      } catch (error) {
        this.onRetry(error);
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
    }
    this.sending = false;
    if (this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
