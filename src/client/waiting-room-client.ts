/**
 * The anteroom client: joins a waiting room over WebSocket (protocol v1), reports its place in line, pings
 * while admitted, and reconnects with full-jitter backoff, resuming its queue place after a dropped connection.
 * Once admitted to a live room (protocol v2 §6) it chats: `say()`, `typing()`, and the room's messages,
 * presence, typing and history as events (see {@link LiveRoom}).
 *
 * Runs in browsers and in Node: it only uses the WHATWG WebSocket surface, and the constructor is injectable
 * (the Node entry passes `ws`).
 */
import { EventEmitter } from 'eventemitter3';
import { closeAllowsReconnect, CloseCode } from '../protocol/codes.js';
import type { ActiveStatus, ClientMessage, QueuedStatus } from '../protocol/messages.js';
import { FullJitterBackoff } from './backoff.js';
import type {
  ChatMember,
  ClientState,
  PendingSay,
  ServerError,
  WaitingRoomClientEvents,
  WaitingRoomClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './client-types.js';
import { LiveRoom, type ChatRequest } from './live-room.js';
import { MemoryResumeStore } from './resume-store.js';
import type { ResumeStore } from './resume-store.js';
import { isActiveStatus, isQueuedStatus, isRecord } from './server-messages.js';

/** The protocol's suggested ping interval, used if the server announces none. */
const DEFAULT_PING_INTERVAL_MS = 2000;
/** How long a fresh place is held back waiting for the answer to `resume`. */
const RESUME_ANSWER_TIMEOUT_MS = 1000;
/** How long to wait for the server's close after `leave` before closing from this side. */
const LEAVE_CLOSE_TIMEOUT_MS = 5000;
/** Messages per older page of history, unless `loadOlder()` is told otherwise. */
const DEFAULT_HISTORY_PAGE = 50;

// WebSocket.readyState OPEN, fixed by the WHATWG spec; not read from the constructor, which may lack it.
const OPEN = 1;


function positiveInterval(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function ignoreSocketEvent(): void {
  // A retired socket may still report errors (`ws` throws on an unhandled one), and they no longer matter.
}

/**
 * A waiting-room client. Create it, subscribe to its events, then call {@link connect}.
 *
 * ```ts
 * const client = new WaitingRoomClient({ url: 'wss://example.com/rooms/launch' });
 * client.on('position', ({ position }) => render(position));
 * client.on('admitted', ({ token }) => location.assign(`/enter?token=${token}`));
 * client.connect();
 * ```
 *
 * In a live room, once admitted:
 *
 * ```ts
 * client.on('history', ({ messages }) => messages.forEach(show));
 * client.on('message', show);           // every message once, in the room's order, the own ones included
 * client.on('presence', ({ members }) => showMembers(members));
 * client.on('typing', ({ from, state }) => showTyping(from, state));
 * const id = client.say('Hello!');      // kept and sent again after a reconnect until the room has it
 * ```
 */
export class WaitingRoomClient extends EventEmitter<WaitingRoomClientEvents> {
  /** The room URL this client connects to. */
  readonly url: string;

  readonly #WebSocket: WebSocketConstructor;
  readonly #resumeStore: ResumeStore;
  readonly #backoff: FullJitterBackoff;
  readonly #reconnect: boolean;
  readonly #pingIntervalOverride: number | undefined;

  #state: ClientState = 'closed';
  #socket: WebSocketLike | null = null;
  /** Set by leave(): the connection is ending on purpose and must not be reopened. */
  #leaving = false;
  /** The token this connection sent in `resume`, so a `bad_resume` clears that one and not a newer one. */
  #resumeAttempted: string | null = null;
  /**
   * The fresh tail place the server gave this connection while its `resume` is unanswered. Shown only if the
   * resume is refused, so a resumed waiter never sees its place flash to the back of the line.
   */
  #freshPlace: QueuedStatus | null = null;
  /** Shows the fresh place anyway if a resume goes unanswered (a server that does not support it). */
  #resumeAnswerTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #leaveTimer: ReturnType<typeof setTimeout> | undefined;

  readonly #room = new LiveRoom({
    send: (message) => this.#send(message),
    emit: (event, payload) => this.emit(event, payload as never),
  });

  #session: string | null = null;
  #position: number | null = null;
  #queueLength: number | null = null;
  #etaMs: number | null = null;
  #token: string | null = null;
  #expiresAt: number | null = null;

  /**
   * @throws TypeError when no WebSocket constructor is given and `globalThis.WebSocket` does not exist.
   * @throws RangeError when `pingIntervalMs` is not a positive number, or a backoff bound is negative.
   */
  constructor(options: WaitingRoomClientOptions) {
    super();
    const WebSocketCtor =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketCtor === undefined) {
      throw new TypeError(
        'No WebSocket implementation: pass the WebSocket option, or use createNodeClient from the Node entry',
      );
    }
    if (options.pingIntervalMs !== undefined && positiveInterval(options.pingIntervalMs) === undefined) {
      throw new RangeError(`pingIntervalMs must be a positive number, got ${String(options.pingIntervalMs)}`);
    }
    this.url = options.url;
    this.#WebSocket = WebSocketCtor;
    this.#resumeStore = options.resumeStore ?? new MemoryResumeStore();
    this.#backoff = new FullJitterBackoff(options.backoff);
    this.#reconnect = options.reconnect ?? true;
    this.#pingIntervalOverride = options.pingIntervalMs;
  }

  /** Current lifecycle state. */
  get state(): ClientState {
    return this.#state;
  }

  /** Place in line from the latest queued status (1 = next); `null` before one arrives and once admitted. */
  get position(): number | null {
    return this.#position;
  }

  /** Queue length from the latest queued status; `null` before one arrives and once admitted. */
  get queueLength(): number | null {
    return this.#queueLength;
  }

  /** Estimated wait from the latest queued status, in ms; `null` when unknown or once admitted. */
  get etaMs(): number | null {
    return this.#etaMs;
  }

  /** Session id from the latest status, or `null` before the first. */
  get session(): string | null {
    return this.#session;
  }

  /**
   * The latest admission JWT, or `null` before admission. It is kept after the connection drops (the JWT
   * stays valid until {@link expiresAt}) and cleared when the session is queued again.
   */
  get token(): string | null {
    return this.#token;
  }

  /** When {@link token} expires, in ms since the epoch, or `null`. */
  get expiresAt(): number | null {
    return this.#expiresAt;
  }

  /** Whether the connection is admitted to a live room (the room sent its members or its history). */
  get liveRoom(): boolean {
    return this.#room.live;
  }

  /** The live room's members, from the latest `presence`; empty outside a live room. */
  get members(): ChatMember[] {
    return this.#room.members;
  }

  /** Says the room has not acknowledged yet, oldest first. */
  get pendingSays(): PendingSay[] {
    return this.#room.pending;
  }

  /** Whether the room holds messages older than the oldest this client has (see {@link loadOlder}). */
  get olderHistoryExists(): boolean {
    return this.#room.olderExist;
  }

  /**
   * Post `text` to the live room. Returns the message's id (a nanoid made here); the room's `message` with
   * that id is the acknowledgement. Until then the say is kept: said while disconnected or queued, or lost
   * with a dropped connection, it is sent again with the same id once admitted again, and the server never
   * stores an id twice. Says go one at a time, each after the room's answer to the one before, at most 10 a
   * second, so the room stores them in the order said.
   *
   * @throws RangeError for empty text or text over 2000 UTF-16 code units, or when 500 says are pending.
   */
  say(text: string): string {
    return this.#room.say(text);
  }

  /**
   * Tell the live room this member is typing (`true`, repeated to the server at most every 3 s however often
   * it is called) or stopped (`false`, sent once). Ignored outside a live room: typing is not queued.
   */
  typing(state: boolean): void {
    this.#room.typing(state);
  }

  /**
   * Ask for up to `limit` (1..200, default 50) messages older than the oldest this client has; they arrive as
   * a `history` event. False when not in a live room or before any message.
   */
  loadOlder(limit = DEFAULT_HISTORY_PAGE): boolean {
    return this.#room.loadOlder(limit);
  }

  /**
   * Open the connection. If the resume store holds a token, it is presented in the upgrade URL
   * (`?resume=<token>`), taking back the place that token holds as the server places the connection. Does
   * nothing unless the client is `closed`.
   *
   * @throws whatever the WebSocket constructor throws for a malformed URL.
   */
  connect(): void {
    if (this.#state !== 'closed') return;
    this.#leaving = false;
    this.#backoff.reset();
    this.#session = null;
    this.#clearPlace();
    this.#clearAdmission();
    this.#openSocket();
    this.#setState('connecting');
  }

  /**
   * Leave the room politely: send `leave` so the server frees the seat or place at once, forget the resume
   * token and never reconnect. The client becomes `closed` when the server closes (1000), or after a few
   * seconds if it does not. Without an open connection it just stops.
   */
  leave(): void {
    this.#resumeStore.clear();
    this.#room.forget();
    if (this.#socket === null) {
      this.close();
      return;
    }
    if (this.#leaving) return;
    this.#leaving = true;
    this.#stopPings();
    // A connection still opening sends `leave` from its open handler instead.
    if (this.#socket.readyState === OPEN) this.#send({ type: 'leave' });
    this.#leaveTimer = setTimeout(() => {
      this.#leaveTimer = undefined;
      this.close();
    }, LEAVE_CLOSE_TIMEOUT_MS);
  }

  /**
   * Close the connection with 1000 and stop: no reconnect, no timers left running. The client is `closed`
   * when this returns (a `close` event is emitted first if a connection was open or opening). The resume
   * token is kept: a place held after a drop stays claimable by a later {@link connect}.
   */
  close(): void {
    const socket = this.#socket;
    if (socket !== null) {
      this.#retireSocket(socket);
      try {
        socket.close(CloseCode.left);
      } catch {
        // Already closing or closed.
      }
    }
    this.#stopTimers();
    this.#leaving = false;
    this.#setState('closed');
    if (socket !== null) this.emit('close', { code: CloseCode.left, reason: '', willReconnect: false });
  }

  #openSocket(): void {
    this.#forgetResumeAttempt();
    // The resume token rides in the upgrade URL, so the server can give the place back as it places the
    // connection: a full line never turns away someone whose place it is keeping.
    const resumeToken = this.#resumeStore.get();
    if (resumeToken !== null) this.#resumeAttempted = resumeToken;
    const socket = new this.#WebSocket(resumeToken === null ? this.url : withResumeToken(this.url, resumeToken));
    this.#socket = socket;
    socket.onopen = () => this.#handleOpen(socket);
    socket.onmessage = (event) => this.#handleMessage(socket, event.data);
    socket.onclose = (event) => this.#handleClose(socket, event.code, event.reason);
    socket.onerror = ignoreSocketEvent; // Always followed by close, which carries what the client acts on.
  }

  #retireSocket(socket: WebSocketLike): void {
    this.#room.suspend();
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = ignoreSocketEvent;
    if (this.#socket === socket) this.#socket = null;
  }

  #handleOpen(socket: WebSocketLike): void {
    if (socket !== this.#socket) return;
    if (this.#leaving) {
      this.#send({ type: 'leave' });
      return;
    }
  }

  #handleMessage(socket: WebSocketLike, data: unknown): void {
    // After leave() nothing the server says changes the outcome; in particular a late status must not
    // store a resume token again.
    if (socket !== this.#socket || this.#leaving) return;
    // Binary frames are not part of the protocol.
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(message)) return;
    // Unknown types and malformed known ones are skipped: a newer server may send more.
    switch (message.type) {
      case 'status':
        if (isQueuedStatus(message)) this.#handleQueued(message);
        else if (isActiveStatus(message)) this.#handleActive(message);
        return;
      case 'room':
        if (typeof message.status === 'string' && (typeof message.notice === 'string' || message.notice === null)) {
          this.emit('room', { status: message.status, notice: message.notice });
        }
        return;
      case 'token':
        if (typeof message.token === 'string' && typeof message.expiresAt === 'number') {
          this.#token = message.token;
          this.#expiresAt = message.expiresAt;
          this.emit('token', { token: message.token, expiresAt: message.expiresAt });
        }
        return;
      case 'error':
        if (typeof message.code === 'string') {
          this.#handleServerError(message.code, message.message, message.retryAfterMs, message.ref);
        }
        return;
      case 'evicted':
        if (typeof message.reason === 'string') {
          this.#stopPings();
          this.emit('evicted', { reason: message.reason });
        }
        return;
      default:
        this.#room.receive(message);
        return;
    }
  }

  #handleQueued(status: QueuedStatus): void {
    if (this.#resumeAttempted !== null) {
      if (status.resumeToken !== this.#resumeAttempted) {
        this.#freshPlace = status;
        this.#resumeAnswerTimer ??= setTimeout(() => this.#giveUpResume(), RESUME_ANSWER_TIMEOUT_MS);
        return;
      }
      // The server answered the resume with the old place.
      this.#forgetResumeAttempt();
    }
    // Being placed is the success that ends a run of failed reconnects.
    this.#backoff.reset();
    this.#resumeStore.set(status.resumeToken);
    this.#stopPings();
    this.#room.suspend();
    this.#clearAdmission();
    this.#session = status.session;
    this.#position = status.position;
    this.#queueLength = status.queueLength;
    this.#etaMs = status.etaMs;
    this.#setState('queued');
    this.emit('status', status);
    this.emit('position', {
      position: status.position,
      queueLength: status.queueLength,
      etaMs: status.etaMs,
      roomStatus: status.roomStatus ?? 'open',
      notice: status.notice ?? null,
      preQueue: status.preQueue === true,
      opensAt: status.opensAt ?? null,
      priority: status.priority ?? 0,
    });
  }

  #handleActive(status: ActiveStatus): void {
    this.#forgetResumeAttempt();
    this.#backoff.reset();
    // A v2 server holds a seat across its restart for this token; without one there is nothing to resume.
    if (typeof status.resumeToken === 'string') this.#resumeStore.set(status.resumeToken);
    else this.#resumeStore.clear();
    const wasActive = this.#state === 'active';
    this.#clearPlace();
    this.#session = status.session;
    this.#token = status.token;
    this.#expiresAt = status.expiresAt;
    this.#startPings(
      this.#pingIntervalOverride ?? positiveInterval(status.heartbeat.intervalMs) ?? DEFAULT_PING_INTERVAL_MS,
    );
    this.#setState('active');
    this.emit('status', status);
    if (wasActive) {
      this.emit('token', { token: status.token, expiresAt: status.expiresAt });
      return;
    }
    this.emit('admitted', { session: status.session, token: status.token, expiresAt: status.expiresAt });
    this.#room.admitted();
  }

  #handleServerError(code: string, message: unknown, retryAfterMs: unknown, ref: unknown): void {
    if (code === 'bad_resume' && this.#resumeAttempted !== null) {
      // The refused token is dead. If a fresh place's status already stored a newer token, keep that one.
      if (this.#resumeStore.get() === this.#resumeAttempted) this.#resumeStore.clear();
      this.#giveUpResume();
    }
    const error: ServerError = { code, message: typeof message === 'string' ? message : '' };
    if (typeof retryAfterMs === 'number') error.retryAfterMs = retryAfterMs;
    if (typeof ref === 'string') {
      error.ref = ref;
      this.#room.refused(ref, code);
    }
    if (code === 'rate_limited') this.#room.rateLimited(error.retryAfterMs);
    this.emit('error', error);
  }

  #handleClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#retireSocket(socket);
    this.#stopTimers();
    const reconnect = this.#reconnect && !this.#leaving && closeAllowsReconnect(code);
    this.#leaving = false;
    if (reconnect) {
      this.#scheduleReconnect();
      this.#setState('reconnecting');
    } else {
      this.#setState('closed');
    }
    // Read the timer rather than `reconnect`: a state listener may have called close() meanwhile.
    this.emit('close', { code, reason: reason ?? '', willReconnect: this.#reconnectTimer !== undefined });
  }

  #scheduleReconnect(): void {
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      try {
        this.#openSocket();
      } catch {
        // The URL opened before, so this is an environment failure that retrying will not fix.
        this.#socket = null;
        this.close();
      }
    }, this.#backoff.next());
  }

  #startPings(intervalMs: number): void {
    this.#stopPings();
    this.#pingTimer = setInterval(() => this.#send({ type: 'ping' }), intervalMs);
  }

  #stopPings(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  /** The resume was refused or never answered: the fresh place held back is this connection's place. */
  #giveUpResume(): void {
    const fresh = this.#freshPlace;
    this.#forgetResumeAttempt();
    if (fresh) this.#handleQueued(fresh);
  }

  #forgetResumeAttempt(): void {
    this.#resumeAttempted = null;
    this.#freshPlace = null;
    if (this.#resumeAnswerTimer !== undefined) clearTimeout(this.#resumeAnswerTimer);
    this.#resumeAnswerTimer = undefined;
  }

  #stopTimers(): void {
    this.#forgetResumeAttempt();
    this.#stopPings();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    if (this.#leaveTimer !== undefined) clearTimeout(this.#leaveTimer);
    this.#leaveTimer = undefined;
  }

  /** Sends on the open connection; false (nothing sent) when there is none. */
  #send(message: ClientMessage | ChatRequest): boolean {
    // Sending on a socket that is not open throws in browsers (CONNECTING) or is silently dropped.
    if (this.#socket?.readyState !== OPEN) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  #clearPlace(): void {
    this.#position = null;
    this.#queueLength = null;
    this.#etaMs = null;
  }

  #clearAdmission(): void {
    this.#token = null;
    this.#expiresAt = null;
  }

  #setState(state: ClientState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('state', state);
  }
}

/** `url` with `resume=<token>` added to its query. */
export function withResumeToken(url: string, token: string): string {
  const [base, hash] = url.split('#', 2) as [string, string | undefined];
  const joined = `${base}${base.includes('?') ? '&' : '?'}resume=${encodeURIComponent(token)}`;
  return hash === undefined ? joined : `${joined}#${hash}`;
}
