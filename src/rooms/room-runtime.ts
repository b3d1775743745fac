import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import type { AdmissionCommand, AdmissionDecision } from '../../machines/admission/admission-types.js';
import { connectionMachine } from '../../machines/connection.machine.js';
import { roomMachine } from '../../machines/room.machine.js';
import { CloseCode, type ErrorCode, type EvictionReason } from '../protocol/codes.js';
import type { ActorClock } from '../log/actor-clocks.js';
import type { EventLog } from '../log/event-log.js';
import type { RoomConfig } from '../config/server-config.js';

/** A client message as the actors see it, after parsing and validation at the edge. */
export type InboundMessage =
  | { type: 'ping' }
  | { type: 'leave' }
  /** `session` is the session the resume token names, or null when the token is not valid. */
  | { type: 'resume'; session: string | null }
  /** A refused message: recorded for incidents, changes nothing. */
  | { type: 'invalid'; code: ErrorCode };

/** Operator commands a room accepts at run time. */
export type RoomAdminCommand = Extract<AdmissionCommand, { type: 'setCapacity' | 'setMaxQueue' | 'pause' | 'open' | 'close' | 'kick' }>;

/** What the actors ask the edge to do to a socket. The server implements it; replay and tests stub it. */
export interface ConnectionEffects {
  sendQueuedStatus(conn: string, session: string, position: number, queueLength: number): void;
  sendAdmission(conn: string, session: string): void;
  sendEvicted(conn: string, reason: EvictionReason): void;
  sendError(conn: string, code: ErrorCode, message: string): void;
  sendPingFrame(conn: string): void;
  closeSocket(conn: string, code: number): void;
  terminateSocket(conn: string): void;
  /** Positions may have changed: the edge schedules a coalesced fan-out. */
  queueChanged(room: string): void;
}

/** Effects that do nothing: for replay and benchmarks, where no socket is on the other end. */
export const silentConnectionEffects: ConnectionEffects = {
  sendQueuedStatus() {},
  sendAdmission() {},
  sendEvicted() {},
  sendError() {},
  sendPingFrame() {},
  closeSocket() {},
  terminateSocket() {},
  queueChanged() {},
};

export interface RoomRuntimeOptions {
  settings: RoomConfig;
  log: EventLog;
  /** The base clock of one actor; the runtime numbers and records its timers when `recordTimers` is on. */
  clockFor: (conn: string | null) => ActorClock;
  recordTimers?: boolean;
  effects: ConnectionEffects;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  closeTimeoutMs?: number;
}

type ConnectionActor = Actor<typeof connectionMachine>;

/**
 * Close codes after which a queued place is released rather than held: the client closed on purpose (1000,
 * or no status, 1005), or the server closed it for what it sent (1002 protocol error, 1003 binary,
 * 1007 bad UTF-8, 1008 policy, 1009 too large).
 */
const placeReleasingCloses: ReadonlySet<number> = new Set([
  CloseCode.normal,
  CloseCode.noStatus,
  CloseCode.protocolError,
  CloseCode.unsupportedData,
  CloseCode.invalidPayload,
  CloseCode.policyViolation,
  CloseCode.messageTooBig,
]);

export function isDeliberateClose(code: number): boolean {
  return placeReleasingCloses.has(code);
}

/**
 * One room at run time, without sockets: the room admission actor, one root actor per connection, and the
 * event log they write to. Every input is recorded before it reaches an actor and every decision as the room
 * makes it, so `replay` can drive a fresh runtime with the same inputs and compare decisions.
 */
export class RoomRuntime {
  readonly name: string;
  readonly settings: RoomConfig;
  private readonly log: EventLog;
  private readonly effects: ConnectionEffects;
  private readonly room: Actor<typeof roomMachine>;
  private readonly connections = new Map<string, ConnectionActor>();
  private readonly machine: typeof connectionMachine;
  private readonly options: RoomRuntimeOptions;
  /**
   * Commands connection actors addressed to the room, delivered once the connection's own step is over, so
   * no actor runs inside another's action and the order is the same live and in replay.
   */
  private readonly roomInbox: AdmissionCommand[] = [];
  private draining = false;

  constructor(options: RoomRuntimeOptions) {
    this.options = options;
    this.settings = { ...options.settings };
    this.name = options.settings.name;
    this.log = options.log;
    this.effects = options.effects;
    this.machine = this.wireConnectionMachine();
    this.log.append(this.name, 'room.opened', null, { settings: { ...this.settings } });
    this.room = createActor(roomMachine, {
      id: `room:${this.name}`,
      systemId: `room:${this.name}`,
      input: {
        room: this.name,
        capacity: this.settings.capacity,
        maxQueue: this.settings.maxQueue,
        resumeWindowMs: this.settings.resumeWindowMs,
        sessionTtlMs: this.settings.sessionTtlMs,
      },
      clock: this.clockFor(null),
      inspect: options.inspect,
    });
    this.room.on('*', (decision) => this.onDecision(decision));
    this.room.start();
  }

  // ---- inputs ----

  connect(conn: string, session: string): void {
    if (this.connections.has(conn)) return;
    this.log.append(this.name, 'connected', conn, { session });
    const actor = createActor(this.machine, {
      id: `conn:${conn}`,
      systemId: `conn:${conn}`,
      input: {
        conn,
        session,
        room: this.name,
        heartbeatTimeoutMs: this.settings.heartbeatTimeoutMs,
        queuePingMs: this.settings.queuePingMs,
        closeTimeoutMs: this.options.closeTimeoutMs ?? 5000,
      },
      clock: this.clockFor(conn),
      inspect: this.options.inspect,
    });
    this.connections.set(conn, actor);
    actor.start();
    this.deliverToRoom();
  }

  message(conn: string, message: InboundMessage): void {
    const actor = this.connections.get(conn);
    if (!actor) return;
    this.log.append(this.name, 'message', conn, { ...message });
    if (message.type === 'invalid') return;
    actor.send({ type: 'activity' });
    if (message.type === 'leave') {
      actor.send({ type: 'leave' });
    } else if (message.type === 'resume') {
      if (message.session === null) {
        this.effects.sendError(conn, 'bad_resume', 'resume token is unknown or expired');
      } else {
        this.roomInbox.push({ type: 'resume', conn, session: message.session });
      }
    }
    this.deliverToRoom();
  }

  pong(conn: string): void {
    const actor = this.connections.get(conn);
    if (!actor) return;
    this.log.append(this.name, 'pong', conn, {});
    actor.send({ type: 'pong' });
  }

  closed(conn: string, code: number): void {
    const actor = this.connections.get(conn);
    if (!actor) return;
    this.log.append(this.name, 'closed', conn, { code });
    actor.send({ type: 'socket.closed', code });
    this.deliverToRoom();
  }

  /** The socket fell too far behind on what it was sent: dropped as if it had vanished. */
  overflow(conn: string): void {
    const actor = this.connections.get(conn);
    if (!actor) return;
    this.log.append(this.name, 'overflow', conn, {});
    actor.send({ type: 'overflow' });
    this.deliverToRoom();
  }

  configure(command: RoomAdminCommand): void {
    this.log.append(this.name, 'config', null, { ...command });
    if (command.type === 'setCapacity') this.settings.capacity = command.capacity;
    if (command.type === 'setMaxQueue') this.settings.maxQueue = command.maxQueue;
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

  stop(): void {
    for (const actor of this.connections.values()) actor.stop();
    this.connections.clear();
    this.room.stop();
  }

  // ---- views (read-only) ----

  get status(): 'open' | 'paused' | 'closed' {
    return this.admission.status;
  }
  get capacity(): number {
    return this.admission.capacity;
  }
  get activeCount(): number {
    return this.admission.seats.size;
  }
  /** Places in line, live and held. */
  get queueLength(): number {
    return this.admission.queue.size;
  }
  get heldCount(): number {
    return this.admission.queue.size - this.admission.queue.liveCount;
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
  isActive(conn: string): boolean {
    return this.admission.seats.has(conn);
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

  private get admission() {
    return this.room.getSnapshot().context.admission;
  }

  // ---- wiring ----

  private clockFor(conn: string | null): ActorClock {
    return new ActorTimerClock(this, this.options.clockFor(conn), conn);
  }

  /**
   * A timer of an actor fired. Timers are inputs like any other: recorded (by number, per actor) before the
   * actor sees them, and what the actor then asks of the room is delivered right after.
   */
  fireTimer(conn: string | null, timer: number, fire: () => void): void {
    if (this.options.recordTimers) this.log.append(this.name, 'timer', conn, { timer });
    fire();
    this.deliverToRoom();
  }

  private deliverToRoom(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let i = 0; i < this.roomInbox.length; i++) this.room.send(this.roomInbox[i]!);
    } finally {
      this.roomInbox.length = 0;
      this.draining = false;
    }
  }

  private onDecision(decision: AdmissionDecision): void {
    const { type, ...rest } = decision;
    const conn = 'conn' in decision ? decision.conn : null;
    const { conn: _conn, ...data } = rest as typeof rest & { conn?: unknown };
    this.log.append(this.name, type, conn, data);
    switch (decision.type) {
      case 'queued':
        this.connections.get(decision.conn)?.send({ type: 'placed.queued', position: decision.position, queueLength: decision.queueLength });
        this.effects.queueChanged(this.name);
        break;
      case 'admitted':
        this.connections.get(decision.conn)?.send({ type: 'placed.active' });
        this.effects.queueChanged(this.name);
        break;
      case 'rejected':
        this.connections.get(decision.conn)?.send({ type: 'reject', reason: decision.reason });
        break;
      case 'released':
        if (decision.conn !== null && decision.reason === 'left') this.connections.get(decision.conn)?.send({ type: 'release' });
        if (decision.from === 'queue') this.effects.queueChanged(this.name);
        break;
      case 'evicted':
        this.connections.get(decision.conn)?.send({ type: 'evict', reason: decision.reason });
        if (decision.from === 'queue') this.effects.queueChanged(this.name);
        break;
      case 'resumed':
        if (decision.replacedConn !== null) this.connections.get(decision.replacedConn)?.send({ type: 'evict', reason: 'replaced' });
        this.connections.get(decision.conn)?.send({
          type: 'resumed',
          session: decision.session,
          position: decision.position,
          queueLength: decision.queueLength,
        });
        this.effects.queueChanged(this.name);
        break;
      case 'resumeRefused':
        this.effects.sendError(decision.conn, 'bad_resume', 'no place is held for that resume token');
        break;
      case 'held':
      case 'capacityChanged':
      case 'maxQueueChanged':
      case 'statusChanged':
        break;
    }
  }

  private wireConnectionMachine(): typeof connectionMachine {
    const room = { send: (command: AdmissionCommand) => this.roomInbox.push(command) };
    const effects = this.effects;
    return connectionMachine.provide({
      actions: {
        requestPlace: ({ context }) => room.send({ type: 'join', conn: context.conn, session: context.session }),
        requestLeave: ({ context }) => room.send({ type: 'leave', conn: context.conn }),
        reportHeartbeatExpired: ({ context }) => room.send({ type: 'evict', conn: context.conn, reason: 'heartbeat_timeout' }),
        reportSocketClosed: ({ context }, { code }) =>
          room.send({ type: isDeliberateClose(code) ? 'leave' : 'drop', conn: context.conn }),
        reportOverflow: ({ context }) => room.send({ type: 'drop', conn: context.conn }),
        sendQueuedStatus: ({ context }, { position, queueLength }) =>
          effects.sendQueuedStatus(context.conn, context.session, position, queueLength),
        sendAdmission: ({ context }) => effects.sendAdmission(context.conn, context.session),
        sendEvicted: ({ context }, { reason }) => {
          if (reason !== null) effects.sendEvicted(context.conn, reason);
        },
        sendPingFrame: ({ context }) => effects.sendPingFrame(context.conn),
        closeSocket: ({ context }, { code }) => effects.closeSocket(context.conn, code),
        terminateSocket: ({ context }) => effects.terminateSocket(context.conn),
        connectionEnded: ({ context }) => this.connections.delete(context.conn),
      },
    });
  }
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
