import type { PendingSay } from './client-types.js';

/** Most `say`s kept unacknowledged; past it `say()` refuses, so a client cut off for long cannot grow without end. */
export const MAX_PENDING_SAYS = 500;

/**
 * The outbound queue of a live room: every `say` until the room acknowledges it (the sender's own copy of
 * the message, matched by id). What was said while disconnected, or sent but not acknowledged before a drop,
 * is sent again with the same ids on the next connection; the server stores an id once (protocol v2 §6), so
 * a retry never makes a duplicate. A plain data structure: the client decides when to send.
 */
export class ChatOutbox {
  /** id → text, in the order said. */
  readonly #pending = new Map<string, string>();
  /** Ids still to transmit on the current connection, in the order said. */
  #unsent: string[] = [];

  /** Unacknowledged says, oldest first. */
  get pending(): PendingSay[] {
    return [...this.#pending].map(([id, text]) => ({ id, text }));
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Whether something waits to be transmitted on the current connection. */
  get hasUnsent(): boolean {
    return this.#unsent.some((id) => this.#pending.has(id));
  }

  /**
   * Keep a new say and queue it for sending.
   * @throws RangeError when the id is already pending or {@link MAX_PENDING_SAYS} are pending.
   */
  add(id: string, text: string): void {
    if (this.#pending.has(id)) throw new RangeError(`say id ${id} is already pending`);
    if (this.#pending.size >= MAX_PENDING_SAYS) {
      throw new RangeError(`${MAX_PENDING_SAYS} messages are waiting to be sent; wait for the connection to come back`);
    }
    this.#pending.set(id, text);
    this.#unsent.push(id);
  }

  /** The next say to transmit, now counted as sent on this connection; undefined when none is left. */
  next(): PendingSay | undefined {
    for (let id = this.#unsent.shift(); id !== undefined; id = this.#unsent.shift()) {
      const text = this.#pending.get(id);
      if (text !== undefined) return { id, text };
    }
    return undefined;
  }

  /** The room stored it (its message came back): forget it. Whether it was pending. */
  acknowledge(id: string): boolean {
    return this.#pending.delete(id);
  }

  /** The room refused it for good (invalid): forget it without sending again. Whether it was pending. */
  drop(id: string): boolean {
    return this.#pending.delete(id);
  }

  /** A new connection: everything unacknowledged is to be sent again, in the order said. */
  rewind(): void {
    this.#unsent = [...this.#pending.keys()];
  }

  /** Taken but not sent after all (the connection was gone): send it first, before the says that came after it. */
  retry(id: string): void {
    if (this.#pending.has(id) && !this.#unsent.includes(id)) this.#unsent.unshift(id);
  }

  /** Forget everything (the visitor left the room). */
  clear(): void {
    this.#pending.clear();
    this.#unsent = [];
  }
}
