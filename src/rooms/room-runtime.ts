import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { heldCount, type AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision, RoomStatus } from '../../machines/admission/admission-types.js';
import { closeReasons, placeAfterClientClose, type CloseReasonName } from '../../machines/close-reasons.js';
import { connectionMachine, type ConnectionEvent } from '../../machines/connection.machine.js';
import { presentMembers } from '../../machines/chat/chat-state.js';
import { chatDecisionTypes, defaultHistoryLimit, type ChatCommand, type ChatDecision, type ChatSeed, type Member } from '../../machines/chat/chat-types.js';
import { guestIdentity, type Identity } from '../../machines/identity.js';
import { recoveredRoomSnapshot, roomMachine, type RoomCommand, type RoomDecision } from '../../machines/room.machine.js';
import { evolve } from '../../machines/admission/evolve.js';
import { joinTakesBack } from '../../machines/admission/decide.js';
import { restoreAdmission, type AdmissionSnapshot } from '../../machines/admission/admission-snapshot.js';
import type { RoomConfig } from '../config/server-config.js';
import type { ActorClock } from '../log/actor-clocks.js';
import type { EventLog } from '../log/event-log.js';
import { identityRecord } from './connection-identity.js';
import { connectionSystemParent, lightenConnectionActor, stopConnectionActor } from './connection-system.js';
import type { InboundMessage, RoomAdminCommand } from './room-inputs.js';

export type { InboundMessage, RoomAdminCommand } from './room-inputs.js';

/** What the actors ask the edge to do to a socket. The server implements it; replay and tests stub it. */
export interface ConnectionEffects {
  sendQueuedStatus(conn: string, session: string, position: number, queueLength: number): void;
  sendAdmission(conn: string, session: string): void;
  /** The resume token was not valid, or no place is held for it: `error{code:"bad_resume"}`. */
  refuseResume(conn: string): void;
  /** Closes the socket for `reason`: its `evicted` message first when it has one, then its close code. */
  closeSocket(conn: string, reason: CloseReasonName): void;
  sendPingFrame(conn: string): void;
  terminateSocket(conn: string): void;
  /** Positions may have changed: the edge schedules a coalesced fan-out. */
  queueChanged(room: string): void;
  /** The room's status or notice changed: every connection in the room is told at once. */
  roomChanged(room: string): void;
  /**
   * A live room decided about chat: the edge keeps what must outlive the process (an accepted message goes to
   * the history store at once, before the log is durable, so a restart never gives its seq again).
   */
  storeChat(decision: ChatDecision): void;
  /** A live room decided about chat: the edge broadcasts or answers as the decision says. */
  chat(decision: ChatDecision): void;
}

/** Effects that do nothing: for replay and benchmarks, where no socket is on the other end. */
export const silentConnectionEffects: ConnectionEffects = {
  sendQueuedStatus() {},
  sendAdmission() {},
  refuseResume() {},
  closeSocket() {},
  sendPingFrame() {},
  terminateSocket() {},
  queueChanged() {},
  roomChanged() {},
  storeChat() {},
  chat() {},
};

export interface RoomRuntimeOptions {
  settings: RoomConfig;
  log: EventLog;
  /** The base clock of one actor; the runtime numbers and records its timers when `recordTimers` is on. */
  clockFor: (conn: string | null) => ActorClock;
  /** The time of an input as it arrives, ms epoch (default `Date.now`); replay gives the recorded times. */
  now?: () => number;
  recordTimers?: boolean;
  effects: ConnectionEffects;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** How long a closing socket may take to answer the close handshake before it is cut, ms (default 5000). */
  closeTimeoutMs?: number;
  /** How long a connection the full line turned away may still present `resume`, ms (default 2000). */
  resumeGraceMs?: number;
  /**
   * An actor failed (an action threw): `conn` is the connection's, null for the room's own. The failed actor
   * is stopped and forgotten; the caller decides what else to do (the server closes the socket with 1011).
   * Without it the error is kept in `failure` and nothing is thrown.
   */
  onActorError?: (error: unknown, conn: string | null) => void;
  /** Set for a room an operator created at run time; recorded in its `room.opened`. */
  createdBy?: 'operator';
  /**
   * The admission state a restart recovered for this room: the room goes on from it (recorded as
   * `room.recovered`), taken by reference. Absent: the room opens empty (`room.opened`).
   */
  recovered?: AdmissionState;
  /**
   * Where a live room's chat goes on from (its history store's last seq and ids), recorded in `room.opened` or
   * `room.recovered`. Absent: the chat starts at seq 0.
   */
  chat?: ChatSeed;
  /**
   * Cluster mode: what the connection actors and operators ask of the room goes here instead of to the local
   * room actor (the room's owner decides, possibly on another node), and the decisions come back in log order
   * through `applyReplicated`. Absent: the local room actor decides, as on a single node.
   */
  forward?: (command: AdmissionCommand) => void;
}

/** How long a connection the full line turned away may still present `resume` before it is closed with 4003. */
export const defaultResumeGraceMs = 2000;

type ConnectionActor = Actor<typeof connectionMachine>;

/**
 * One room at run time, without sockets: the room admission actor, one root actor per connection, and the
 * event log they write to. Every input enters here once: it is recorded (with the time the room decides by)
 * before it reaches an actor, and every decision is recorded as the room makes it, so `replay` can drive a
 * fresh runtime with the same inputs and compare decisions.
 */
export class RoomRuntime {
  readonly name: string;
  private readonly config: RoomConfig;
  private readonly log: EventLog;
  private readonly effects: ConnectionEffects;
  private readonly room: Actor<typeof roomMachine>;
  private readonly connections = new Map<string, ConnectionActor>();
  private readonly machine: typeof connectionMachine;
  /** The XState system every connection actor of the room shares (see `connectionSystemParent`). */
  private readonly connectionParent: ReturnType<typeof connectionSystemParent>;
  private readonly options: RoomRuntimeOptions;
  private readonly now: () => number;
  /** The time of the input being handled: what the room decides by. */
  private inputAt = 0;
  /**
   * Commands connection actors addressed to the room, delivered once the connection's own step is over, so
   * no actor runs inside another's action and the order is the same live and in replay.
   */
  private readonly roomInbox: RoomCommand[] = [];
  /** The join-ticket priority of each connection that has one above 0, until the connection ends. */
  private readonly priorities = new Map<string, number>();
  /** The authenticated identity of each connection that has one, until the connection ends. */
  private readonly identities = new Map<string, Identity>();
  private draining = false;

  constructor(options: RoomRuntimeOptions) {
    this.options = options;
    this.config = { ...options.settings };
    this.name = options.settings.name;
    this.log = options.log;
    this.effects = options.effects;
    this.now = options.now ?? Date.now;
    this.machine = this.wireConnectionMachine();
    this.connectionParent = connectionSystemParent((actorId, error) => this.actorFailed(error, connOfActor(actorId)), options.inspect);
    if (options.recovered) {
      // Not operator settings: the configuration at this start decides them.
      options.recovered.resumeWindowMs = this.config.resumeWindowMs;
      options.recovered.sessionTtlMs = this.config.sessionTtlMs;
      options.recovered.seatGraceMs = this.config.seatGraceMs ?? 0;
    }
    // A ticket secret is a key, not a setting: it never reaches the log.
    const { ticketSecret: _secret, ...settings } = this.config;
    const seed = options.chat && options.chat.seq > 0 ? { chat: options.chat } : {};
    if (options.recovered) this.log.append(this.name, 'room.recovered', null, { settings, ...seed }, this.beginInput());
    else this.log.append(this.name, 'room.opened', null, { settings, ...(options.createdBy === undefined ? {} : { createdBy: options.createdBy }), ...seed }, this.beginInput());
    const chat = this.config.chat ? { chat: { historyLimit: this.config.historyLimit ?? defaultHistoryLimit, ...(options.chat ? { seed: options.chat } : {}) } } : {};
    const { chat: _live, ...roomSettings } = this.config;
    const input = { ...roomSettings, room: this.name, now: () => this.inputAt, ...chat };
    this.room = createActor(roomMachine, {
      id: `room:${this.name}`,
      systemId: `room:${this.name}`,
      input,
      ...(options.recovered ? { snapshot: recoveredRoomSnapshot({ ...input, recovered: options.recovered }) } : {}),
      clock: this.clockFor(null),
      inspect: options.inspect,
    });
    this.room.on('*', (decision) => this.onDecision(decision));
    this.room.subscribe({ error: (error) => this.actorFailed(error, null) });
    this.room.start();
  }

  // ---- inputs ----

  /**
   * A socket opened with a fresh `session`. `resume`: the session a resume token presented at the upgrade
   * names (null for a token that is not valid; undefined when none was presented). `priority`: from a
   * verified join ticket (an integer ≥ 0; 0 or undefined without one), recorded only above 0. `identity`: who
   * the upgrade proved the visitor is (JWT or login cookie); recorded when authenticated, and then the room
   * gives the user one place at most (a second connection takes the first one's over).
   */
  connect(conn: string, session: string, resume?: string | null, priority = 0, identity?: Identity): void {
    if (this.connections.has(conn)) return;
    const data = { session, ...(resume === undefined ? {} : { resume }), ...(priority > 0 ? { priority } : {}), ...identityRecord(identity) };
    this.log.append(this.name, 'connected', conn, data, this.beginInput());
    if (priority > 0) this.priorities.set(conn, priority);
    if (identity?.authenticated) this.identities.set(conn, identity);
    const id = connectionActorId(conn);
    const actor = createActor(this.machine, {
      id,
      systemId: id,
      input: {
        conn,
        session,
        room: this.name,
        heartbeatTimeoutMs: this.config.heartbeatTimeoutMs,
        queuePingMs: this.config.queuePingMs,
        closeTimeoutMs: this.options.closeTimeoutMs ?? 5000,
        resumeGraceMs: this.options.resumeGraceMs ?? defaultResumeGraceMs,
        resume,
      },
      clock: this.clockFor(conn),
      // Inspected through the shared system, which the runtime's inspector observes.
      parent: this.connectionParent,
    });
    this.connections.set(conn, actor);
    // A failure reaches `actorFailed` through the shared parent (see `connectionSystemParent`).
    actor.start();
    lightenConnectionActor(actor);
    this.deliverToRoom();
  }

  /**
   * A client message: a well-formed one goes to the connection's actor (a heartbeat, for chat, `hello` and
   * `history`), and `say` and `typing` to the room; a refused one is only recorded.
   */
  message(conn: string, message: InboundMessage): void {
    const actor = this.connections.get(conn);
    if (!actor) return;
    this.log.append(this.name, 'message', conn, message, this.beginInput());
    if (message.type === 'invalid') return;
    switch (message.type) {
      case 'say':
        this.roomInbox.push({ type: 'chat.say', conn, id: message.id, text: message.text });
        break;
      case 'typing':
        this.roomInbox.push({ type: 'chat.typing', conn, state: message.state });
        break;
    }
    // What the connection does not handle itself still tells it the client is there.
    actor.send(message.type === 'say' || message.type === 'typing' || message.type === 'hello' || message.type === 'history' ? { type: 'activity' } : message);
    this.deliverToRoom();
  }

  pong(conn: string): void {
    this.toConnection(conn, { type: 'pong' }, (at) => this.log.append(this.name, 'pong', conn, {}, at));
  }

  /**
   * The server closes the connection for what the client did (`reason` a row of the close-reason table): the
   * room treats it as gone at once, whether or not the peer ever answers the close.
   */
  fault(conn: string, reason: CloseReasonName): void {
    this.toConnection(conn, { type: 'fault', reason }, (at) => this.log.append(this.name, 'fault', conn, { reason }, at));
  }

  closed(conn: string, code: number): void {
    this.toConnection(conn, { type: 'socket.closed', code }, (at) => this.log.append(this.name, 'closed', conn, { code }, at));
  }

  /** The socket fell too far behind on what it was sent: dropped as if it had vanished. */
  overflow(conn: string): void {
    this.toConnection(conn, { type: 'overflow' }, (at) => this.log.append(this.name, 'overflow', conn, {}, at));
  }

  /** An operator command: recorded, then carried out by the room. */
  configure(command: RoomAdminCommand): void {
    this.log.append(this.name, 'config', null, command, this.beginInput());
    this.roomInbox.push(command);
    this.deliverToRoom();
  }

  /**
   * The server is stopping: the room closes with reason `shutdown`, so every session is told why and closed
   * with 1001. Recorded like any operator command, so a log that ends in a shutdown still replays.
   */
  shutdown(): void {
    this.configure({ type: 'close', reason: 'shutdown' });
  }

  /**
   * An operator removes the room: it closes (everyone is told `room_closed` and closed with 4006), the removal
   * is recorded, and the actors stop. The runtime takes no inputs after it.
   */
  remove(): void {
    this.configure({ type: 'close' });
    this.log.append(this.name, 'room.removed', null, {}, this.beginInput());
    this.stop();
  }

  /**
   * The server restarts with a data dir (it is stopping, or it has just recovered the room): every place and
   * seat is held for the resume window, and every open connection is told `evicted{restart}` and closed with
   * 1012. Recorded like any operator command, so the log replays across restarts.
   */
  holdForRestart(): void {
    this.configure({ type: 'holdForRestart' });
  }

  stop(): void {
    for (const actor of this.connections.values()) stopConnectionActor(actor);
    this.connections.clear();
    this.room.stop();
  }

  /**
   * A timer of an actor fired. Timers are inputs like any other: recorded (by number, per actor) before the
   * actor sees them, and what the actor then asks of the room is delivered right after.
   */
  fireTimer(conn: string | null, timer: number, fire: () => void): void {
    const at = this.beginInput();
    if (this.options.recordTimers) this.log.append(this.name, 'timer', conn, { timer }, at);
    fire();
    this.deliverToRoom();
  }

  /**
   * Cluster mode: decisions the room's owner made, in log order, taken at `at` (ms epoch). Each is applied to
   * this node's replica with `evolve`, recorded, and told to the local connection it concerns, so positions
   * are computed next to the socket and fan-out stays on this node.
   */
  applyReplicated(decisions: readonly AdmissionDecision[], at: number): void {
    this.inputAt = at;
    const state = this.room.getSnapshot().context.admission;
    for (const decision of decisions) {
      evolve(state, decision);
      this.onDecision(decision);
    }
    this.deliverToRoom();
  }

  /**
   * Cluster mode: the room as the first entry of its log opened it, with the settings of the node that first
   * owned it (this node's rooms file may differ). Called before any decision is applied, so nobody is in it.
   */
  adoptOpened(opened: AdmissionSnapshot): void {
    Object.assign(this.room.getSnapshot().context.admission, restoreAdmission(opened));
    this.effects.roomChanged(this.name);
  }

  /** Whether connection `conn` is one of this server's (its socket is here). */
  hasConnection(conn: string): boolean {
    return this.connections.has(conn);
  }

  /** The first error an actor of this room failed with, when no `onActorError` was given (replay reads it). */
  failure: unknown = null;

  // ---- views (read-only) ----

  /** The room's admission state as `evolve` built it: the one source of seats, line, status and settings. */
  get admission(): Readonly<AdmissionState> {
    return this.room.getSnapshot().context.admission;
  }
  /** The room's settings as they stand now: the configured ones, with admin changes applied. */
  get settings(): RoomConfig {
    const { capacity, maxQueue, admissionRate } = this.admission;
    return { ...this.config, capacity, maxQueue, admissionRate };
  }
  /** The settings the room was started with (this run's configuration, before admin changes). */
  /** Set for a room an operator created at run time. */
  get createdBy(): 'operator' | undefined {
    return this.options.createdBy;
  }
  get startedWith(): RoomConfig {
    return { ...this.config };
  }
  get status(): RoomStatus {
    return this.admission.status;
  }
  /** The operator's notice to the room, or null. */
  get notice(): string | null {
    return this.admission.notice;
  }
  get capacity(): number {
    return this.admission.capacity;
  }
  get maxQueue(): number {
    return this.admission.maxQueue;
  }
  get activeCount(): number {
    return this.admission.seats.size;
  }
  /** Places in line, live and held. */
  get queueLength(): number {
    return this.admission.queue.size;
  }
  get heldCount(): number {
    return heldCount(this.admission);
  }
  get connectionCount(): number {
    return this.connections.size;
  }
  connectionIds(): IterableIterator<string> {
    return this.connections.keys();
  }
  connectionState(conn: string): ReturnType<ConnectionActor['getSnapshot']> | undefined {
    return this.connections.get(conn)?.getSnapshot();
  }
  /**
   * Who is on a connection: its authenticated identity, or for a guest the guest identity of the session it
   * holds (which a resume may have changed since it connected). Undefined for a connection that has ended.
   */
  identityOf(conn: string): Identity | undefined {
    const actor = this.connections.get(conn);
    return actor === undefined ? undefined : this.identityHolding(conn, actor.getSnapshot().context.session);
  }
  /** The one place identity is decided: `conn`'s authenticated identity, else the guest identity of `session`. */
  private identityHolding(conn: string, session: string): Identity {
    return this.identities.get(conn) ?? guestIdentity(session);
  }
  /** Whether a seat or a place in line (live or held) belongs to `session`. */
  holdsSession(session: string): boolean {
    return this.admission.seatBySession.has(session) || this.admission.ticketBySession.has(session);
  }
  /**
   * Whether a connection presenting a resume token for `session`, as `identity`, would take back a seat or
   * place the room holds now (see `joinTakesBack`), rather than be given a fresh one.
   */
  takesBack(session: string, identity: Identity | undefined): boolean {
    return joinTakesBack(this.admission, session, identity?.authenticated ? identity.user : undefined);
  }
  /** Whether a place in line is held for `session` (it has no connection until a resume takes it back). */
  holdsPlaceFor(session: string): boolean {
    const ticket = this.admission.ticketBySession.get(session);
    // A held place has no connection; a live one names its own.
    return ticket !== undefined && this.admission.queue.get(ticket)!.conn === null;
  }
  isActive(conn: string): boolean {
    return this.admission.seats.has(conn);
  }
  /** A live room's members present, in order of arrival (empty in a room without chat). */
  members(): Member[] {
    const chat = this.room.getSnapshot().context.chat;
    return chat === null ? [] : presentMembers(chat);
  }
  /** The user a member's connection is present as in this live room, or undefined. */
  memberOf(conn: string): string | undefined {
    return this.room.getSnapshot().context.chat?.userByConn.get(conn);
  }
  /** Whether `conn` is a member's connection in this live room. */
  isMember(conn: string): boolean {
    return this.room.getSnapshot().context.chat?.userByConn.has(conn) ?? false;
  }
  /** A live room's connections of members, in no particular order. */
  memberConnections(): IterableIterator<string> {
    const chat = this.room.getSnapshot().context.chat;
    return (chat?.userByConn ?? new Map<string, string>()).keys();
  }

  activeConnections(): IterableIterator<string> {
    return this.admission.seats.keys();
  }
  /** Exact place in line (1 = next), 0 when not queued. O(log n). */
  positionOf(conn: string): number {
    const ticket = this.admission.ticketByConn.get(conn);
    return ticket === undefined ? 0 : this.admission.queue.rank(ticket);
  }
  /**
   * Live waiters in line order with their exact positions, from the head, at most `limit`. Held places are
   * counted in the positions but not visited.
   */
  *waitersInOrder(limit = Infinity): IterableIterator<[conn: string, position: number]> {
    let position = 0;
    for (const [, waiter] of this.admission.queue.entries()) {
      if (++position > limit) return;
      if (waiter.conn !== null) yield [waiter.conn, position];
    }
  }

  // ---- wiring ----

  /**
   * An action threw inside an actor. XState stops the actor and would rethrow the error on a timer, ending
   * the process; observing it here keeps the failure to the one connection (or room) it belongs to.
   */
  private actorFailed(error: unknown, conn: string | null): void {
    if (conn !== null) {
      this.forgetConnection(conn);
      // Recorded as the server closing it for an internal error, at the time of the input under way, so the
      // log replays: replay feeds the same `fault` to a live actor, which lets the place go the same way.
      this.log.append(this.name, 'fault', conn, { reason: 'internal' }, this.inputAt);
      this.roomInbox.push({ type: closeReasons.internal.place === 'held' ? 'drop' : 'leave', conn });
    }
    if (this.options.onActorError) this.options.onActorError(error, conn);
    else this.failure ??= error;
  }

  /** A connection's actor ended or failed: nothing of it is kept. */
  private forgetConnection(conn: string): void {
    this.connections.delete(conn);
    this.priorities.delete(conn);
    this.identities.delete(conn);
  }

  private beginInput(): number {
    this.inputAt = this.now();
    return this.inputAt;
  }

  /** An input about one connection that its actor handles: recorded, delivered, and then the room's turn. */
  private toConnection(conn: string, event: ConnectionEvent, record: (at: number) => void): void {
    const actor = this.connections.get(conn);
    if (!actor) return;
    record(this.beginInput());
    actor.send(event);
    this.deliverToRoom();
  }

  private clockFor(conn: string | null): ActorClock {
    return new ActorTimerClock(this, this.options.clockFor(conn), conn);
  }

  private deliverToRoom(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const forward = this.options.forward;
      for (let i = 0; i < this.roomInbox.length; i++) {
        const command = this.roomInbox[i]!;
        if (!forward) this.room.send(command);
        // A cluster serves no live room (the configuration refuses one), so no chat command is ever forwarded.
        else if (!command.type.startsWith('chat.')) forward(command as AdmissionCommand);
      }
    } finally {
      this.roomInbox.length = 0;
      this.draining = false;
    }
  }

  /** A decision is recorded, then told to the connection it concerns. */
  private onDecision(decision: RoomDecision): void {
    this.log.appendDecision(this.name, decision, this.inputAt);
    if (isChatDecision(decision)) {
      this.effects.storeChat(decision);
      return this.effects.chat(decision);
    }
    if (this.config.chat) for (const command of membershipAfter(decision, (conn, session) => this.identityHolding(conn, session))) this.roomInbox.push(command);
    const actor = (id: string | null) => (id === null ? undefined : this.connections.get(id));
    switch (decision.type) {
      case 'queued':
        actor(decision.conn)?.send({ type: 'placed.queued', position: decision.position, queueLength: decision.queueLength });
        return this.effects.queueChanged(this.name);
      case 'admitted':
        actor(decision.conn)?.send({ type: 'placed.active' });
        return this.effects.queueChanged(this.name);
      case 'rejected':
        return actor(decision.conn)?.send({ type: 'rejected', reason: decision.reason });
      case 'evicted':
        actor(decision.conn)?.send({ type: 'evicted', reason: decision.reason });
        if (decision.from === 'queue') this.effects.queueChanged(this.name);
        return;
      case 'released':
        if (decision.from === 'queue') this.effects.queueChanged(this.name);
        return;
      case 'resumed':
        actor(decision.replacedConn)?.send({ type: 'evicted', reason: 'replaced' });
        actor(decision.conn)?.send({ type: 'resumed', session: decision.session, position: decision.position, queueLength: decision.queueLength });
        return this.effects.queueChanged(this.name);
      case 'resumeRefused':
        return actor(decision.conn)?.send({ type: 'resumeRefused' });
      case 'statusChanged':
      case 'noticeChanged':
      case 'scheduled':
      case 'drawn':
        return this.effects.roomChanged(this.name);
      case 'seatResumed':
        // A seat taken over from a live connection of the same user: that one is closed as replaced.
        actor(decision.replacedConn)?.send({ type: 'evicted', reason: 'replaced' });
        actor(decision.conn)?.send({ type: 'seatResumed', session: decision.session });
        return this.effects.queueChanged(this.name);
      case 'heldForRestart': {
        // Copied first: a connection that closes at once leaves the map while it is walked.
        const held = decision.conns === undefined ? [...this.connections.values()] : decision.conns.map((conn) => this.connections.get(conn));
        for (const connection of held) connection?.send({ type: 'evicted', reason: decision.reason ?? 'restart' });
        return this.effects.queueChanged(this.name);
      }
    }
  }

  private joinCommand(conn: string, session: string, resume: string | null | undefined): AdmissionCommand {
    const priority = this.priorities.get(conn);
    const user = this.identities.get(conn)?.user;
    return {
      type: 'join',
      conn,
      session,
      ...(typeof resume === 'string' ? { resume } : {}),
      ...(priority === undefined ? {} : { priority }),
      ...(user === undefined ? {} : { user }),
    };
  }

  private wireConnectionMachine(): typeof connectionMachine {
    const room = (command: AdmissionCommand) => this.roomInbox.push(command);
    const effects = this.effects;
    return connectionMachine.provide({
      actions: {
        requestPlace: ({ context }) => room(this.joinCommand(context.conn, context.session, context.resume)),
        reportLeave: ({ context }) => room({ type: 'leave', conn: context.conn }),
        reportResume: ({ context }, { session }) => room({ type: 'resume', conn: context.conn, session }),
        reportHeartbeatExpired: ({ context }) => room({ type: 'evict', conn: context.conn, reason: 'heartbeat_timeout' }),
        reportFault: ({ context }, { reason }) => room({ type: closeReasons[reason].place === 'held' ? 'drop' : 'leave', conn: context.conn }),
        reportSocketClosed: ({ context }, { code }) => room({ type: placeAfterClientClose(code) === 'held' ? 'drop' : 'leave', conn: context.conn }),
        reportOverflow: ({ context }) => room({ type: 'drop', conn: context.conn }),
        sendQueuedStatus: ({ context }, { position, queueLength }) => effects.sendQueuedStatus(context.conn, context.session, position, queueLength),
        sendAdmission: ({ context }) => effects.sendAdmission(context.conn, context.session),
        refuseResume: ({ context }) => effects.refuseResume(context.conn),
        closeSocket: ({ context }, { reason }) => effects.closeSocket(context.conn, reason),
        sendPingFrame: ({ context }) => effects.sendPingFrame(context.conn),
        terminateSocket: ({ context }) => effects.terminateSocket(context.conn),
        connectionEnded: ({ context }) => this.forgetConnection(context.conn),
      },
    });
  }
}

const chatDecisionSet: ReadonlySet<string> = new Set(chatDecisionTypes);

function isChatDecision(decision: RoomDecision): decision is ChatDecision {
  return chatDecisionSet.has(decision.type);
}

/**
 * What an admission decision changes in a live room's membership: a seat taken makes its connection a member's;
 * a seat ended (left, evicted, gone to the site) ends it. A held seat keeps its member present until it is
 * resumed or released; a resumed seat joins its new connection before the old one leaves, so a handover
 * changes no presence. A restart hold changes nothing: the room's actors stop, or have just started empty.
 */
function membershipAfter(decision: AdmissionDecision, identityOf: (conn: string, session: string) => Identity): ChatCommand[] {
  switch (decision.type) {
    case 'admitted': {
      const { user, name } = identityOf(decision.conn, decision.session);
      return [{ type: 'chat.join', conn: decision.conn, user, name }];
    }
    case 'seatResumed': {
      const { user, name } = identityOf(decision.conn, decision.session);
      return [{ type: 'chat.join', conn: decision.conn, user, name }, { type: 'chat.leave', conn: decision.replacedConn }];
    }
    case 'released':
    case 'evicted':
      return decision.from === 'seat' && decision.conn !== null ? [{ type: 'chat.leave', conn: decision.conn }] : [];
    case 'seatKept':
      return [{ type: 'chat.leave', conn: decision.conn }];
    default:
      return [];
  }
}

/** A connection actor's id (and system id) in its room's shared system. */
function connectionActorId(conn: string): string {
  return `conn:${conn}`;
}

function connOfActor(actorId: string): string {
  return actorId.slice('conn:'.length);
}

/**
 * The clock one actor schedules its delayed events on. It numbers the actor's timers in the order they are
 * armed (1, 2, 3, …), which replay reproduces exactly, and reports each that fires to the runtime. A small
 * object per connection, with its methods shared on the prototype.
 */
class ActorTimerClock implements ActorClock {
  private armed = 0;

  constructor(
    private readonly runtime: RoomRuntime,
    private readonly base: ActorClock,
    private readonly conn: string | null,
  ) {}

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown {
    const timer = ++this.armed;
    return this.base.setTimeout(() => this.runtime.fireTimer(this.conn, timer, fn), timeout);
  }

  clearTimeout(id: unknown): void {
    this.base.clearTimeout(id);
  }
}
