/**
 * The names a cluster uses on NATS, all derived from `--cluster-name` so several clusters share one NATS
 * without meeting. Room names are base64url-encoded into subject tokens and keys (`.`, `*`, `>` and spaces are
 * not allowed in NATS subjects, and KV keys take only `[-/_=.a-zA-Z0-9]`).
 */
export interface ClusterNames {
  /** The JetStream stream that holds every room's log (one subject per room). */
  stream: string;
  /** Every room's log subject: `<prefix>.log.>`. */
  allLogs: string;
  /** Every room's snapshot subject: `<prefix>.snap.>` (only the last of each room is read). */
  allSnapshots: string;
  /** The subject of one room's snapshots. */
  snapshotSubject(room: string): string;
  /** The subject of one room's log. */
  logSubject(room: string): string;
  /** The room whose log `subject` is, or null for a subject of no room. */
  roomOfSubject(subject: string): string | null;
  /** Request/reply subject the owner of `room` answers forwarded commands on. */
  commandSubject(room: string): string;
  /** KV bucket of room leases (TTL = the lease TTL), key: the encoded room. */
  leaseBucket: string;
  /** KV bucket of node presence entries (TTL = the lease TTL), key: the node id. */
  nodeBucket: string;
  /** KV bucket of the shared signing key and resume secret. */
  secretBucket: string;
  roomKey(room: string): string;
}

export function clusterNames(cluster: string): ClusterNames {
  const prefix = `anteroom.${cluster}`;
  const encode = (room: string) => Buffer.from(room, 'utf8').toString('base64url');
  const logPrefix = `${prefix}.log.`;
  return {
    stream: `ANTEROOM_${cluster}`,
    allLogs: `${logPrefix}>`,
    allSnapshots: `${prefix}.snap.>`,
    snapshotSubject: (room) => `${prefix}.snap.${encode(room)}`,
    logSubject: (room) => logPrefix + encode(room),
    roomOfSubject: (subject) => (subject.startsWith(logPrefix) ? Buffer.from(subject.slice(logPrefix.length), 'base64url').toString('utf8') : null),
    commandSubject: (room) => `${prefix}.cmd.${encode(room)}`,
    leaseBucket: `anteroom-${cluster}-leases`,
    nodeBucket: `anteroom-${cluster}-nodes`,
    secretBucket: `anteroom-${cluster}-secrets`,
    roomKey: encode,
  };
}

/** Connection ids in cluster mode name their node: `<node id>~<random>` (node ids never contain `~`). */
export function clusterConnPrefix(nodeId: string): string {
  return `${nodeId}~`;
}

/** The node a cluster connection id belongs to, or null for an id without one. */
export function nodeOfConn(conn: string): string | null {
  const at = conn.indexOf('~');
  return at <= 0 ? null : conn.slice(0, at);
}
