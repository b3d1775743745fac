import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { clusterNames } from './cluster-names.js';
import { parseLogEntry, type LogEntry } from './log-entry.js';

/**
 * Every entry of one room's stream, in order, read with an ordered consumer up to the room's last entry as it
 * stood when the read began. Messages that are not entries are skipped.
 * @throws Error when NATS cannot be reached or the cluster's stream does not exist.
 */
export async function readRoomStream(servers: string[], cluster: string, room: string): Promise<LogEntry[]> {
  const names = clusterNames(cluster);
  const nc = await connect({ servers, maxReconnectAttempts: 0 });
  try {
    const jsm = await jetstreamManager(nc);
    const subject = names.logSubject(room);
    const last = await jsm.streams.getMessage(names.stream, { last_by_subj: subject }).catch(() => null);
    if (!last) return [];
    const consumer = await jetstream(nc).consumers.get(names.stream, { filter_subjects: subject });
    const entries: LogEntry[] = [];
    const messages = await consumer.consume();
    for await (const message of messages) {
      const entry = parseLogEntry(message.data);
      if (entry) entries.push(entry);
      if (message.seq >= last.seq) break;
    }
    return entries;
  } finally {
    await nc.close();
  }
}
