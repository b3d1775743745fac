import { randomBytes } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import type { RoomConfig, ServerConfig } from '../config/server-config.js';
import type { RoomRuntime } from '../rooms/room-runtime.js';
import { clusterConnPrefix, clusterNames } from './cluster-names.js';
import { ClusterRoom } from './cluster-room.js';
import { lastSeqOf, lastSnapshot, openClusterStore, sharedSecrets, type ClusterStore } from './cluster-store.js';
import { parseLogEntry, type RoomSnapshot } from './log-entry.js';
import { restoreAdmission } from '../../machines/admission/admission-snapshot.js';
import type { AdmissionState } from '../../machines/admission/admission-state.js';
import { DeliverPolicy } from '@nats-io/jetstream';

/** How often NATS tells the replica consumer it is alive, ms: two missed and the consumer is made again. */
const replicaHeartbeatMs = 1000;

/** One node's presence entry, as `/api/cluster` lists it. */
export interface NodePresence {
  id: string;
  /** The node's client address (ws://host:port). */
  address: string;
  connections: number;
  roomsOwned: string[];
  /** When the node last wrote its entry (ms epoch). */
  lastSeen: number;
}

/** What the node tells the cluster about itself. */
export interface NodeDescription {
  address: string;
  connections: number;
}

/**
 * This server's membership in a cluster (`--nats`): the shared secrets, one `ClusterRoom` per room served,
 * one ordered consumer that applies every room's stream to the local replicas, the lease steps and the
 * presence entry.
 */
export class ClusterNode {
  readonly rooms = new Map<string, ClusterRoom>();
  readonly connPrefix: string;
  private connected = true;
  private replicaFailure: unknown = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  private constructor(
    readonly store: ClusterStore,
    readonly nodeId: string,
    readonly secrets: { keyPem: string; resumeSecret: Buffer },
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    /** Each configured room's last snapshot, read at start. */
    private readonly snapshots: Map<string, RoomSnapshot>,
  ) {
    this.connPrefix = clusterConnPrefix(nodeId);
  }

  /** Connects to NATS and reads (or makes) the shared secrets. @throws ConfigError when NATS is not usable. */
  static async join(config: ServerConfig, logger: Logger): Promise<ClusterNode> {
    const nodeId = config.nodeId ?? `node-${randomBytes(4).toString('hex')}`;
    const store = await openClusterStore(config.nats!, clusterNames(config.clusterName), config.leaseTtlMs, nodeId);
    const snapshots = new Map<string, RoomSnapshot>();
    for (const room of config.rooms) {
      const snapshot = await lastSnapshot(store, room.name);
      if (snapshot) snapshots.set(room.name, snapshot);
    }
    const node = new ClusterNode(store, nodeId, await sharedSecrets(store), config, logger, snapshots);
    void node.watchConnection();
    return node;
  }

  /** The room as its last snapshot left it, for its runtime to start from; undefined without one. */
  recoveredRoom(room: string): AdmissionState | undefined {
    const snapshot = this.snapshots.get(room);
    return snapshot ? restoreAdmission(snapshot.admission) : undefined;
  }

  /** Serves `runtime` as a replica of the cluster's room (call before `start`), from `recoveredRoom`'s snapshot if it took it. */
  serveRoom(runtime: RoomRuntime, settings: RoomConfig): void {
    const source = `${this.nodeId}.${randomBytes(4).toString('hex')}`;
    const startedFrom = this.snapshots.get(runtime.name) ?? null;
    if (startedFrom) this.logger.info({ room: runtime.name, seq: startedFrom.seq }, 'replica starts from snapshot');
    const options = {
      ...{ store: this.store, nodeId: this.nodeId, source, leaseTtlMs: this.config.leaseTtlMs, logger: this.logger },
      ...{ liveNodes: () => this.liveNodes(), snapshotEvery: this.config.snapshotEveryRecords, startedFrom },
    };
    this.rooms.set(runtime.name, new ClusterRoom(runtime, settings, options));
  }

  forward(room: string, command: AdmissionCommand): void {
    this.rooms.get(room)?.forward(command);
  }

  ownerOf(room: string): string | null {
    return this.rooms.get(room)?.ownerId ?? null;
  }

  /** Starts replicating, the lease steps and the presence entry. */
  async start(describe: () => NodeDescription): Promise<void> {
    await this.writePresence(describe);
    await this.replicate();
    const leaseStep = Math.max(50, Math.min(250, this.config.leaseTtlMs / 4));
    this.timers.push(setInterval(() => this.rooms.forEach((room) => void room.tick()), leaseStep));
    this.timers.push(setInterval(() => void this.writePresence(describe).catch(() => {}), this.config.leaseTtlMs / 3));
    this.rooms.forEach((room) => void room.tick());
    void this.holdEarlierRun();
  }

  /** Once the replicas have caught up, each room holds the connections an earlier run of this node id left. */
  private async holdEarlierRun(): Promise<void> {
    // NATS away at start: try again until the replicas have caught up (or the node stops).
    while (!(await this.settled(this.config.leaseTtlMs * 3))) {
      if (this.closing) return;
      await new Promise((resolve) => setTimeout(resolve, this.config.leaseTtlMs).unref());
    }
    if (this.closing) return;
    for (const room of this.rooms.values()) room.holdEarlierRun((conn) => room.runtime.hasConnection(conn));
  }

  /**
   * Resolves true once every command forwarded so far is in its room's stream and this node's replicas have
   * caught up with it (an admin write answers with the room as it then stands), false after `waitMs`.
   */
  async settled(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    const caughtUp = async () => {
      for (const room of this.rooms.values()) {
        await room.forwarder.drained();
        const target = await lastSeqOf(this.store, room.name);
        while (room.lastSeq < target) {
          if (Date.now() > deadline) return false;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      return true;
    };
    const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref());
    return Promise.race([caughtUp().catch(() => false), late]);
  }

  /** Told when the NATS connection is lost (false) and back (true), so the node can tell its visitors. */
  onLinkChange: ((connected: boolean) => void) | null = null;

  /** Why the node cannot admit now, or null. */
  notReadyReason(): string | null {
    if (!this.connected) return 'NATS disconnected: not admitting';
    if (this.replicaFailure !== null) return 'room stream not readable';
    return null;
  }

  /** Every node whose presence entry is alive. */
  async nodes(): Promise<NodePresence[]> {
    const out: NodePresence[] = [];
    // The key listing can name a key twice when its entry is written while it runs (presence is, every TTL/3).
    for (const key of await this.liveNodes()) {
      const entry = await this.store.nodes.get(key).catch(() => null);
      if (entry && entry.length > 0) out.push(entry.json<NodePresence>());
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Graceful stop: the places and seats of `connsByRoom` (this node's connections) are held as after a restart
   * (their clients are told `restart` when the decision comes back), then leases and presence are given up.
   */
  async leave(connsByRoom: Map<string, string[]>, waitMs = 3000): Promise<void> {
    this.closing = true;
    const drained = [...this.rooms.values()].map((room) => {
      const conns = connsByRoom.get(room.name) ?? [];
      if (conns.length > 0) room.forward({ type: 'holdForRestart', conns });
      return room.forwarder.drained();
    });
    await Promise.race([Promise.all(drained), new Promise((resolve) => setTimeout(resolve, waitMs))]);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.rooms.values()].map((room) => room.release()));
    await this.store.nodes.delete(this.nodeId).catch(() => {});
    await this.store.nc.drain().catch(() => {});
  }

  private async liveNodes(): Promise<Set<string>> {
    const live = new Set<string>();
    for await (const key of await this.store.nodes.keys()) live.add(key);
    return live;
  }

  private async writePresence(describe: () => NodeDescription): Promise<void> {
    if (this.closing) return;
    const roomsOwned = [...this.rooms.values()].filter((room) => room.owns).map((room) => room.name);
    const presence: NodePresence = { id: this.nodeId, ...describe(), roomsOwned, lastSeen: Date.now() };
    await this.store.nodes.put(this.nodeId, JSON.stringify(presence));
  }

  /** One ordered consumer over every room's log, from the start: each entry goes to its room's replica in order. */
  private async replicate(): Promise<void> {
    // From the oldest snapshot the rooms start from; from the start when a room has none.
    const fromSeq = Math.min(...[...this.rooms.values()].map((room) => room.lastSeq + 1));
    const start = fromSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq } : {};
    const consumer = await this.store.js.consumers.get(this.store.names.stream, { filter_subjects: this.store.names.allLogs, ...start });
    // Heartbeats every second: after a NATS restart the consumer is gone from the server, and the client makes a
    // new one only once two heartbeats are missed (with the default, 30 s or more of a replica left behind).
    const messages = await consumer.consume({ idle_heartbeat: replicaHeartbeatMs });
    void (async () => {
      try {
        for await (const message of messages) this.applyEntry(message);
      } catch (error) {
        this.replicaFailure = error;
        this.logger.error({ err: error }, 'room stream consumer failed');
      }
    })();
  }

  private applyEntry(message: JsMsg): void {
    const room = this.rooms.get(this.store.names.roomOfSubject(message.subject) ?? '');
    const entry = parseLogEntry(message.data);
    if (!room || !entry || message.seq <= room.lastSeq) return;
    // The room's settings are the log's, not this node's rooms file: every replica and every later owner agree.
    if (entry.opened !== undefined && room.lastSeq === 0) room.runtime.adoptOpened(entry.opened);
    for (const step of entry.steps) room.runtime.applyReplicated(step.decisions, step.at);
    room.replicated(message.seq, entry);
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.store.nc.status()) {
      if (status.type !== 'disconnect' && status.type !== 'reconnect') continue;
      this.connected = status.type === 'reconnect';
      this.logger.warn({ nats: status.type }, 'NATS connection');
      this.onLinkChange?.(this.connected);
    }
  }
}
