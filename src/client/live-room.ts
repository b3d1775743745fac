/**
 * The live-room side of the client (protocol v2 section 6): says with an outbound queue, typing, presence and
 * history, de-duplicated by seq. The {@link WaitingRoomClient} owns the connection and hands this the chat
 * messages and the connection's ups and downs.
 */
import { nanoid } from 'nanoid';
import { TokenBucket } from '../server/token-bucket.js';
import { ChatOutbox } from './chat-outbox.js';
import type { ChatMember, ChatMessage, PendingSay, WaitingRoomClientEvents } from './client-types.js';
import { maxHistoryAfter, maxHistoryPage, maxSayTextLength } from '../../machines/chat/chat-types.js';
import { SeenMessages } from './seen-messages.js';
import { chatMember, chatMessage, isChatMember, isChatMessage } from './server-messages.js';

/** Longest `say` text, in UTF-16 code units (protocol v2 §6). */
export const MAX_SAY_CHARS = maxSayTextLength;
/** Largest page `loadOlder()` asks for (protocol v2 §6). */
export const MAX_HISTORY_PAGE = maxHistoryPage;
/** How long says wait after a reconnect for the history that shows which of them the room already stored, ms. */
export const GAP_WAIT_MS = 3000;

/** Most messages the server puts in one answer to `history after`; a full answer means there may be more. */
export const HISTORY_AFTER_ANSWER = maxHistoryAfter;
/**
 * Says sent per second at most, with a burst of as many: half the server's default rate limit (20/s), which
 * also counts pings and typing, so flushing the queue after a reconnect is not refused.
 */
export const SAY_RATE_PER_SECOND = 10;
/**
 * A `typing:true` is repeated at most this often while the member keeps typing; the server clears the
 * indicator 5 s after the last one.
 */
export const TYPING_REFRESH_MS = 3000;

/** What this side sends: the chat messages of protocol v2 §6. */
export type ChatRequest =
  | { type: 'say'; id: string; text: string }
  | { type: 'typing'; state: boolean }
  | { type: 'history'; after: number }
  | { type: 'history'; before: number; limit: number };

type ChatEvents = Pick<WaitingRoomClientEvents, 'message' | 'presence' | 'typing' | 'history'>;

/** How the live room reaches the connection and the client's listeners. */
export interface LiveRoomHost {
  /** Sends on the open connection; false when there is none. */
  send(message: ChatRequest): boolean;
  emit<K extends keyof ChatEvents>(event: K, payload: ChatEvents[K][0]): void;
}

/**
 * A client's side of one live room across its connections: what it has shown (by seq), who is here, the
 * says waiting for the room's answer, and the pace they go at. Knows nothing of sockets: the host sends.
 */
export class LiveRoom {
  readonly #host: LiveRoomHost;
  readonly #outbox = new ChatOutbox();
  readonly #seen = new SeenMessages();
  readonly #members = new Map<string, ChatMember>();
  readonly #bucket = new TokenBucket(SAY_RATE_PER_SECOND, SAY_RATE_PER_SECOND, Date.now());
  /** This connection is admitted to a live room (its admission `presence` or `history` arrived). */
  #live = false;
  /** The room has been live on an earlier connection: a new admission is live at once. */
  #wasLive = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The say sent and not yet answered. One at a time: the next goes when the room has answered this one, so a
   * say refused for the rate is sent again before any later one and the room stores them in the order said.
   */
  #inFlight: string | null = null;
  /** When `typing:true` was last sent on this connection; null while not typing. */
  #typingSentAt: number | null = null;
  #olderExist = false;
  /** `loadOlder()` requests not answered yet. */
  #olderAsked = 0;
  /**
   * After a reconnect, `history` answers still to come before says are sent again: the room's last 50 and the
   * answer to `history after`. A say the room stored before the drop shows up in them and is not sent again,
   * which matters when the reconnect is a new session (a guest whose seat was not held) and the room's retry
   * rule, which is per user, cannot recognise it.
   */
  #gapAnswersDue = 0;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: LiveRoomHost) {
    this.#host = host;
  }

  /** Whether the current connection is admitted to a live room. */
  get live(): boolean {
    return this.#live;
  }

  get members(): ChatMember[] {
    return [...this.#members.values()];
  }

  get pending(): PendingSay[] {
    return this.#outbox.pending;
  }

  get olderExist(): boolean {
    return this.#olderExist;
  }

  /**
   * Queue `text` and send it as soon as the connection is live; returns its id.
   * @throws RangeError for text that is empty or over {@link MAX_SAY_CHARS}, or a full queue.
   */
  say(text: string): string {
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_SAY_CHARS) {
      throw new RangeError(`say() needs text of 1 to ${MAX_SAY_CHARS} characters`);
    }
    const id = nanoid();
    this.#outbox.add(id, text);
    // The room clears this member's typing indicator when the message arrives.
    this.#typingSentAt = null;
    this.#drain();
    return id;
  }

  /** Typing started (repeated at most every {@link TYPING_REFRESH_MS}) or stopped (sent once). */
  typing(state: boolean): void {
    if (!this.#live) return;
    const now = Date.now();
    if (state) {
      if (this.#typingSentAt !== null && now - this.#typingSentAt < TYPING_REFRESH_MS) return;
      if (this.#host.send({ type: 'typing', state: true })) this.#typingSentAt = now;
    } else if (this.#typingSentAt !== null) {
      this.#typingSentAt = null;
      this.#host.send({ type: 'typing', state: false });
    }
  }

  /** Ask for up to `limit` messages older than the oldest seen; false when not live or nothing is seen yet. */
  loadOlder(limit: number): boolean {
    const oldest = this.#seen.oldest;
    if (!this.#live || oldest === null) return false;
    const size = Math.min(MAX_HISTORY_PAGE, Math.max(1, Math.floor(limit)));
    if (!this.#host.send({ type: 'history', before: oldest, limit: size })) return false;
    this.#olderAsked += 1;
    return true;
  }

  /** Handles a chat message from the server; false when `message` is not one. */
  receive(message: Record<string, unknown>): boolean {
    switch (message.type) {
      case 'message':
        if (isChatMessage(message)) this.#receiveMessage(chatMessage(message));
        return true;
      case 'history':
        if (Array.isArray(message.messages)) this.#receiveHistory(message.messages, message.more === true);
        return true;
      case 'presence':
        this.#receivePresence(message);
        return true;
      case 'typing':
        if (isChatMember(message.from) && typeof message.state === 'boolean') {
          this.#host.emit('typing', { from: chatMember(message.from), state: message.state });
        }
        return true;
      default:
        return false;
    }
  }

  /** The server refused the message with id `ref`: an invalid say is dropped; one not admitted waits for admission. */
  refused(ref: string, code: string): void {
    if (code === 'rate_limited' || ref !== this.#inFlight) return;
    if (code !== 'not_admitted') this.#outbox.drop(ref);
    this.#answered();
  }

  /**
   * The server refused a message for the rate, without saying which (it does not read a refused message): the
   * say in flight, if any, is sent again after `retryAfterMs`. Had the room stored it after all, it answers
   * with the original message; it never stores an id twice.
   */
  rateLimited(retryAfterMs: number | undefined): void {
    if (this.#inFlight === null) return;
    this.#outbox.retry(this.#inFlight);
    this.#inFlight = null;
    if (this.#live) this.#pauseDrain(retryAfterMs ?? 1000);
  }

  /**
   * The connection was admitted to a seat. In a room already known to be live the client goes live at once,
   * without waiting for the room's presence or history; otherwise it waits for them.
   */
  admitted(): void {
    if (this.#wasLive) this.#goLive();
  }

  /** The connection ended or was queued again: nothing is live until the next admission. */
  suspend(): void {
    this.#live = false;
    this.#typingSentAt = null;
    this.#olderAsked = 0;
    this.#inFlight = null;
    this.#stopDrain();
    this.#gapRead();
  }

  /** The visitor left: forget what was waiting to be said. */
  forget(): void {
    this.suspend();
    this.#outbox.clear();
  }

  #goLive(): void {
    if (this.#live) return;
    this.#live = true;
    this.#wasLive = true;
    // A reconnect: everything after the newest message seen, then what was said meanwhile, in order.
    const newest = this.#seen.newest;
    this.#outbox.rewind();
    if (newest !== null && this.#host.send({ type: 'history', after: newest })) {
      this.#gapAnswersDue = 2;
      // Should an answer never come (refused for the rate), the says go anyway: the retry rule still holds.
      this.#gapTimer = setTimeout(() => this.#gapRead(), GAP_WAIT_MS);
      return;
    }
    this.#drain();
  }

  /** The gap after a reconnect is read (or waited for long enough): what is still pending goes out. */
  #gapRead(): void {
    if (this.#gapTimer !== undefined) clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#gapAnswersDue = 0;
    if (this.#live) this.#drain();
  }

  #receiveMessage(message: ChatMessage): void {
    this.#acknowledge(message.id);
    if (this.#seen.add(message.seq)) this.#host.emit('message', message);
  }

  #receiveHistory(raw: unknown[], more: boolean): void {
    this.#goLive();
    const page = raw.filter(isChatMessage).map(chatMessage).sort((a, b) => a.seq - b.seq);
    const oldestBefore = this.#seen.oldest;
    const fresh = page.filter((message) => {
      // A say stored before a drop comes back here; its retry is then answered, not stored again.
      this.#acknowledge(message.id);
      return this.#seen.add(message.seq);
    });
    const reachesOldest = page.length > 0 && (oldestBefore === null || page[0]!.seq <= oldestBefore);
    if (reachesOldest) this.#olderExist = more;
    else if (page.length === 0 && this.#olderAsked > 0) this.#olderExist = more;
    if (this.#olderAsked > 0) this.#olderAsked -= 1;
    this.#host.emit('history', { messages: fresh, more });
    // Only an answer to `history after` can be this long (the others hold at most 200): the gap goes on.
    const gapGoesOn = page.length >= HISTORY_AFTER_ANSWER && this.#host.send({ type: 'history', after: page.at(-1)!.seq });
    if (this.#gapAnswersDue > 0 && !gapGoesOn && --this.#gapAnswersDue === 0) this.#gapRead();
  }

  #receivePresence(message: Record<string, unknown>): void {
    this.#goLive();
    if (Array.isArray(message.members)) {
      this.#members.clear();
      for (const member of message.members.filter(isChatMember)) this.#members.set(member.user, chatMember(member));
      this.#host.emit('presence', { members: this.members });
    } else if (isChatMember(message.joined)) {
      const joined = chatMember(message.joined);
      this.#members.set(joined.user, joined);
      this.#host.emit('presence', { members: this.members, joined });
    } else if (isChatMember(message.left)) {
      const left = chatMember(message.left);
      this.#members.delete(left.user);
      this.#host.emit('presence', { members: this.members, left });
    }
  }

  #acknowledge(id: string): void {
    this.#outbox.acknowledge(id);
    if (id === this.#inFlight) this.#answered();
  }

  #answered(): void {
    this.#inFlight = null;
    this.#drain();
  }

  /** Sends the next queued say when none is in flight and the pace allows, else waits for the next token. */
  #drain(): void {
    if (!this.#live || this.#gapAnswersDue > 0 || this.#drainTimer !== undefined || this.#inFlight !== null || !this.#outbox.hasUnsent) return;
    const wait = this.#bucket.take(Date.now());
    if (wait > 0) {
      this.#pauseDrain(wait);
      return;
    }
    const next = this.#outbox.next()!;
    if (this.#host.send({ type: 'say', id: next.id, text: next.text })) this.#inFlight = next.id;
    else this.#outbox.retry(next.id);
  }

  #pauseDrain(ms: number): void {
    this.#stopDrain();
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#drain();
    }, ms);
  }

  #stopDrain(): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  }
}
