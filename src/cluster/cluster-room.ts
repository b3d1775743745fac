import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { copyAdmission, snapshotOfAdmission } from '../../machines/admission/admission-snapshot.js';
import type { AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand, ConnId } from '../../machines/admission/admission-types.js';
import type { RoomConfig } from '../config/server-config.js';
import type { RoomRuntime } from '../rooms/room-runtime.js';
import { nodeOfConn } from './cluster-names.js';
import { appendEntry, lastSeqOf, natsRequestTimeoutMs, publishSnapshot, type ClusterStore } from './cluster-store.js';
import { CommandForwarder } from './command-forwarder.js';
import { AppliedCommands, type ForwardedCommand, type LogEntry, type RoomSnapshot } from './log-entry.js';
import { RoomOwner } from './room-owner.js';

/** What one room needs from its node. */
export interface ClusterRoomOptions {
  store: ClusterStore;
  nodeId: string;
  /** This run's command source (`<node>.<boot>`): command ids are `<source>#<n>`. */
  source: string;
  leaseTtlMs: number;
  logger: Logger;
  /** The nodes whose presence entries are alive now. */
  liveNodes: () => Promise<Set<string>>;
  /** The owner snapshots the room after this many entries. */
  snapshotEvery: number;
  /** The snapshot the replica started from, if any. */
  startedFrom: RoomSnapshot | null;
}

/** A lease this node holds: its KV revision and until when it may act on it (ms epoch, local clock). */
interface HeldLease {
  revision: number;
  renewedAt: number;
  validUntil: number;
}

/**
 * One room on one node of a cluster: the replica's place in the stream, the commands on their way to the
 * owner, and, while this node holds the room's lease, the owner. The lease is a KV entry that expires after
 * the lease TTL; it is renewed every third of it, and a node that cannot renew stops owning a tenth of the TTL
 * before the server could expire it (it counts from before it sent the renewal).
 */
export class ClusterRoom {
  /** Stream sequence of the last entry the replica applied. */
  lastSeq = 0;
  /** Commands the replica saw applied. */
  readonly applied: AppliedCommands;
  private entriesSinceSnapshot = 0;
  private sweptAt = 0;
  readonly forwarder: CommandForwarder;
  /** The lease holder as last read (this node's id while it owns). */
  ownerId: string | null = null;
  private lease: HeldLease | null = null;
  private owner: RoomOwner | null = null;
  private subscription: Subscription | null = null;
  private busy = false;
  private stopped = false;

  constructor(
    readonly runtime: RoomRuntime,
    private readonly settings: RoomConfig,
    private readonly options: ClusterRoomOptions,
  ) {
    this.forwarder = new CommandForwarder(options.source, (batch) => this.deliver(batch));
    this.lastSeq = options.startedFrom?.seq ?? 0;
    this.applied = AppliedCommands.from(options.startedFrom?.applied ?? []);
  }

  get name(): string {
    return this.runtime.name;
  }

  get owns(): boolean {
    return this.owner?.active === true;
  }

  /** A replicated entry was applied to the runtime. */
  replicated(seq: number, entry: LogEntry): void {
    this.lastSeq = seq;
    for (const step of entry.steps) if (step.id !== null) this.applied.add(step.id);
    if (++this.entriesSinceSnapshot < this.options.snapshotEvery || !this.owns) return;
    // The replica at `seq` is exactly the log up to it: a snapshot of it bounds what a new node reads.
    this.entriesSinceSnapshot = 0;
    const snapshot: RoomSnapshot = { seq, admission: snapshotOfAdmission(this.runtime.admission), applied: this.applied.entries() };
    publishSnapshot(this.options.store, this.name, snapshot).catch((error: unknown) => this.options.logger.warn({ err: error, room: this.name }, 'room snapshot not written'));
  }

  /** One step of the lease: renew or give it up, take it when it is free, become owner when caught up. */
  async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (this.lease && Date.now() >= this.lease.validUntil) this.resign('the lease could not be renewed in time');
      if (this.lease) await this.renew();
      else await this.tryAcquire();
      if (this.lease && !this.owns) await this.becomeOwner();
      if (this.owns) await this.holdGoneNodes();
    } catch (error) {
      this.options.logger.debug({ err: error, room: this.name }, 'cluster lease step failed');
    } finally {
      this.busy = false;
    }
  }

  /** Gives the lease up (graceful stop): another node may take it at once. */
  async release(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.resign('stopping');
    this.forwarder.stop();
    if (lease) await this.options.store.leases.delete(this.options.store.names.roomKey(this.name), { previousSeq: lease.revision }).catch(() => {});
  }

  forward(command: AdmissionCommand): void {
    this.forwarder.forward(command);
  }

  private async renew(): Promise<void> {
    const lease = this.lease!;
    if (Date.now() - lease.renewedAt < this.options.leaseTtlMs / 3) return;
    const sentAt = Date.now();
    try {
      lease.revision = await this.options.store.leases.update(this.options.store.names.roomKey(this.name), this.options.nodeId, lease.revision);
      lease.renewedAt = sentAt;
      lease.validUntil = sentAt + this.options.leaseTtlMs * 0.9;
    } catch (error) {
      // Someone else holds it now (revision moved on): stop at once. NATS away: retry until validUntil.
      if (String(error).includes('wrong last sequence')) this.resign('the lease was taken by another node');
    }
  }

  private async tryAcquire(): Promise<void> {
    const key = this.options.store.names.roomKey(this.name);
    const sentAt = Date.now();
    try {
      const revision = await this.options.store.leases.create(key, this.options.nodeId);
      this.lease = { revision, renewedAt: sentAt, validUntil: sentAt + this.options.leaseTtlMs * 0.9 };
      this.ownerId = this.options.nodeId;
    } catch {
      const entry = await this.options.store.leases.get(key).catch(() => null);
      this.ownerId = entry && entry.length > 0 ? entry.string() : null;
    }
  }

  /** Catches the replica up with the stream, then starts the owner from a copy of it. */
  private async becomeOwner(): Promise<void> {
    const target = await lastSeqOf(this.options.store, this.name);
    const deadline = this.lease!.validUntil;
    while (this.lastSeq < target) {
      if (Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!this.lease) return;
    const owner = new RoomOwner({
      settings: this.settings,
      nodeId: this.options.nodeId,
      state: copyAdmission(this.runtime.admission),
      lastSeq: this.lastSeq,
      applied: this.applied.copy(),
      append: (entry, expected) => appendEntry(this.options.store, this.name, entry, expected),
      onDeposed: (error) => this.deposed(owner, error),
      leaseValid: () => this.lease !== null && Date.now() < this.lease.validUntil,
      before: seatTakenOverFromAnotherNode,
    });
    this.owner = owner;
    this.sweptAt = 0;
    this.subscription = this.options.store.nc.subscribe(this.options.store.names.commandSubject(this.name), {
      callback: (error, message) => {
        if (error) return;
        const batch = parseBatch(message.data);
        if (batch === null || !owner.active) {
          message.respond(JSON.stringify({ ok: false }));
          return;
        }
        owner.apply(batch).then(
          () => message.respond(JSON.stringify({ ok: true })),
          () => message.respond(JSON.stringify({ ok: false })),
        );
      },
    });
    this.options.logger.info({ room: this.name, node: this.options.nodeId, fromSeq: this.lastSeq }, 'room owner');
  }

  /** Sessions of nodes whose presence expired are held as after a restart, for a resume on any node. */
  private async holdGoneNodes(): Promise<void> {
    // Presence entries change at most every third of the TTL: reading them more often finds nothing new.
    if (Date.now() - this.sweptAt < this.options.leaseTtlMs / 3) return;
    this.sweptAt = Date.now();
    const live = await this.options.liveNodes();
    live.add(this.options.nodeId);
    const gone = this.connsWithoutSocket((conn) => {
      const node = nodeOfConn(conn);
      return node !== null && !live.has(node);
    });
    if (gone.length > 0) await this.owner?.decideOwn({ type: 'holdForRestart', conns: gone });
  }

  /**
   * After a restart of this node quicker than its presence entry's TTL, the cluster still counts the earlier
   * run's connections as alive (they carry the same node id): this node holds them as after a restart, so their
   * places and seats wait for a resume and are then released instead of being kept by nobody for ever.
   * Call once the replica has caught up; `isLocal` says whether a connection is this run's.
   */
  holdEarlierRun(isLocal: (conn: ConnId) => boolean): void {
    const earlier = this.connsWithoutSocket((conn) => nodeOfConn(conn) === this.options.nodeId && !isLocal(conn));
    if (earlier.length > 0) this.forward({ type: 'holdForRestart', conns: earlier });
  }

  /** The connections in line or seated (not already held) for which `isGone` holds. O(places + seats). */
  private connsWithoutSocket(isGone: (conn: ConnId) => boolean): ConnId[] {
    const state = this.runtime.admission;
    const gone: ConnId[] = [];
    for (const conn of state.ticketByConn.keys()) if (isGone(conn)) gone.push(conn);
    for (const [conn, seat] of state.seats) if (seat.holdUntil == null && seat.siteUntil === undefined && isGone(conn)) gone.push(conn);
    return gone;
  }

  private deposed(owner: RoomOwner, error: unknown): void {
    if (this.owner !== owner) return;
    this.options.logger.warn({ err: error, room: this.name }, 'room owner could not append; rebuilding from the stream');
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.owner = null;
  }

  private resign(reason: string): void {
    if (this.owner) this.options.logger.warn({ room: this.name, reason }, 'gave up room ownership');
    this.owner?.stop();
    this.owner = null;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.lease = null;
    if (this.ownerId === this.options.nodeId) this.ownerId = null;
  }

  /** To the owner: directly when it is this node, else by request/reply (the owner alone listens). */
  private async deliver(batch: ForwardedCommand[]): Promise<void> {
    if (this.owner?.active) return this.owner.apply(batch);
    const reply = await this.options.store.nc.request(this.options.store.names.commandSubject(this.name), JSON.stringify({ cmds: batch }), { timeout: natsRequestTimeoutMs });
    if ((reply.json() as { ok?: boolean }).ok !== true) throw new Error('the owner did not apply the commands');
  }
}

/**
 * A resume on one node of a session seated on another: the other node's socket may be gone without the cluster
 * knowing yet (its node just died), so the seat is held for the resume first, as the dead node's would be, and
 * the resume takes it (the old connection, if it is still there, is told `replaced` and closed with 4005). On one node the server knows
 * whether the socket ended, and the single-node rule stands.
 */
function seatTakenOverFromAnotherNode(state: Readonly<AdmissionState>, command: AdmissionCommand): AdmissionCommand | null {
  if (command.type !== 'join' || command.resume === undefined) return null;
  const seatConn = state.seatBySession.get(command.resume);
  const seat = seatConn === undefined ? undefined : state.seats.get(seatConn);
  if (seat === undefined || seat.holdUntil != null || seat.siteUntil !== undefined) return null;
  if (nodeOfConn(seatConn!) === nodeOfConn(command.conn)) return null;
  return { type: 'holdForRestart', conns: [seatConn!], reason: 'replaced' };
}

/** A forwarded batch `{cmds:[{id, command}]}`, or null for anything else. */
function parseBatch(data: Uint8Array): ForwardedCommand[] | null {
  try {
    const { cmds } = JSON.parse(new TextDecoder().decode(data)) as { cmds: unknown };
    if (!Array.isArray(cmds)) return null;
    const valid = cmds.every((c: any) => typeof c?.id === 'string' && typeof c?.command?.type === 'string');
    return valid ? (cmds as ForwardedCommand[]) : null;
  } catch {
    return null;
  }
}
