/**
 * The room sequence numbers a client has already shown: a message can arrive twice (live and again in the
 * page of history that fills a reconnect's gap, or as the server's answer to a retried `say`), and each is
 * shown once. Also the newest seq seen (where a gap fill starts) and the oldest (where an older page ends).
 */
export class SeenMessages {
  readonly #seqs = new Set<number>();
  #newest: number | null = null;
  #oldest: number | null = null;

  /** Highest seq seen, or null before the first message. */
  get newest(): number | null {
    return this.#newest;
  }

  /** Lowest seq seen, or null before the first message. */
  get oldest(): number | null {
    return this.#oldest;
  }

  /** Records `seq`; true when it is new, false when it was already seen. */
  add(seq: number): boolean {
    if (this.#seqs.has(seq)) return false;
    this.#seqs.add(seq);
    if (this.#newest === null || seq > this.#newest) this.#newest = seq;
    if (this.#oldest === null || seq < this.#oldest) this.#oldest = seq;
    return true;
  }
}
