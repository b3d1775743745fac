import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ConfigError } from '../config/config-error.js';
import type { ClusterNames } from './cluster-names.js';
import type { LogEntry, RoomSnapshot } from './log-entry.js';

/** What a node holds open on NATS: the connection, JetStream, the stream and the three buckets. */
export interface ClusterStore {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  leases: KV;
  nodes: KV;
  secrets: KV;
  names: ClusterNames;
}

/** How long an append or a forwarded command waits for NATS to answer, ms: a batch that gets no answer is sent again (same ids). */
export const natsRequestTimeoutMs = 1000;

/**
 * Connects to NATS (reconnecting for ever) and makes sure the room stream and the buckets exist. The lease
 * and presence buckets expire entries after `leaseTtlMs`: a lease that is not renewed disappears on the server.
 * @throws ConfigError when NATS cannot be reached or has no JetStream.
 */
export async function openClusterStore(servers: string[], names: ClusterNames, leaseTtlMs: number, nodeId: string): Promise<ClusterStore> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name: `anteroom ${nodeId}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 1000, maxPingOut: 2 });
  } catch (error) {
    throw new ConfigError(`--nats ${servers.join(',')}: cannot connect (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: names.stream, subjects: [names.allLogs, names.allSnapshots], storage: StorageType.File }).catch(async (error: unknown) => {
      // Another node made it first, or it exists from an earlier run: fine if it is there now.
      if ((await jsm.streams.info(names.stream).catch(() => null)) === null) throw error;
    });
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const bucket = (name: string, ttl: number) => kvm.create(name, { history: 1, ttl }).catch(() => kvm.open(name));
    const [leases, nodes, secrets] = await Promise.all([bucket(names.leaseBucket, leaseTtlMs), bucket(names.nodeBucket, leaseTtlMs), bucket(names.secretBucket, 0)]);
    await matchLeaseTtl(jsm, leases, nodes, leaseTtlMs, names);
    return { nc, js, jsm, leases, nodes, secrets, names };
  } catch (error) {
    await nc.close().catch(() => {});
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`--nats ${servers.join(',')}: JetStream is not usable (is nats-server started with -js?): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * A bucket keeps the TTL it was made with, and every node times its renewals by its own `--lease-ttl`: a node
 * whose TTL is longer than the bucket's would see its presence expire between writes (its visitors held as if
 * it had died), a shorter one would wait longer than it says for a failover. So the buckets follow this node's
 * TTL when no node of the cluster is alive, and a node whose TTL differs from the live nodes' refuses to start.
 * @throws ConfigError when live nodes use another lease TTL.
 */
async function matchLeaseTtl(jsm: JetStreamManager, leases: KV, nodes: KV, leaseTtlMs: number, names: ClusterNames): Promise<void> {
  const bucketTtlMs = (await leases.status()).ttl;
  if (bucketTtlMs === leaseTtlMs && (await nodes.status()).ttl === leaseTtlMs) return;
  const live: string[] = [];
  for await (const key of await nodes.keys()) live.push(key);
  if (live.length > 0) {
    throw new ConfigError(`--lease-ttl ${leaseTtlMs}: the live nodes of this cluster (${live.join(', ')}) run with a lease TTL of ${bucketTtlMs} ms (bucket ${names.leaseBucket}); give every node the same --lease-ttl`);
  }
  const ttl = leaseTtlMs * 1_000_000;
  for (const bucket of [names.leaseBucket, names.nodeBucket]) {
    await jsm.streams.update(`KV_${bucket}`, { max_age: ttl, duplicate_window: Math.min(ttl, 120_000 * 1_000_000) });
  }
}

/**
 * The signing key (PKCS#8 PEM) and resume secret every node of the cluster uses: the first node to start makes
 * them, the others read them (a create that loses the race reads the winner's).
 */
export async function sharedSecrets(store: ClusterStore): Promise<{ keyPem: string; resumeSecret: Buffer }> {
  const once = async (key: string, make: () => string): Promise<string> => {
    await store.secrets.create(key, make()).catch(() => {});
    const entry = await store.secrets.get(key);
    if (!entry || entry.length === 0) throw new ConfigError(`the cluster's ${key} is missing from bucket ${store.names.secretBucket}`);
    return entry.string();
  };
  const keyPem = await once('signing-key', () => String(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' })));
  const resumeSecret = Buffer.from(await once('resume-secret', () => randomBytes(32).toString('base64url')), 'base64url');
  return { keyPem, resumeSecret };
}

/** Appends `entry` to the room's log if its last entry is still at `expectedLastSeq`; resolves with the new sequence. */
export async function appendEntry(store: ClusterStore, room: string, entry: LogEntry, expectedLastSeq: number): Promise<number> {
  const ack = await store.js.publish(store.names.logSubject(room), JSON.stringify(entry), {
    expect: { lastSubjectSequence: expectedLastSeq },
    timeout: natsRequestTimeoutMs,
  });
  return ack.seq;
}

/** Publishes a snapshot of the room; only the room's last one is ever read. */
export async function publishSnapshot(store: ClusterStore, room: string, snapshot: RoomSnapshot): Promise<void> {
  await store.js.publish(store.names.snapshotSubject(room), JSON.stringify(snapshot), { timeout: natsRequestTimeoutMs });
}

/** The room's last snapshot, or null when it has none (or it cannot be read: the log from its start is used). */
export async function lastSnapshot(store: ClusterStore, room: string): Promise<RoomSnapshot | null> {
  const message = await store.jsm.streams.getMessage(store.names.stream, { last_by_subj: store.names.snapshotSubject(room) }).catch(() => null);
  if (!message) return null;
  try {
    const snapshot = message.json<RoomSnapshot>();
    return typeof snapshot.seq === 'number' && Array.isArray(snapshot.applied) && typeof snapshot.admission === 'object' ? snapshot : null;
  } catch {
    return null;
  }
}

/** The stream sequence of the room's last entry, 0 when it has none. */
export async function lastSeqOf(store: ClusterStore, room: string): Promise<number> {
  const message = await store.jsm.streams.getMessage(store.names.stream, { last_by_subj: store.names.logSubject(room) }).catch((error: unknown) => {
    if (String(error).includes('no message found') || String(error).includes('10037')) return null;
    throw error;
  });
  return message?.seq ?? 0;
}
