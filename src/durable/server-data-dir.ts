import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import { DurableStore } from './durable-store.js';

/**
 * The server's data dir (`--data-dir`), opened and recovered, or null when the server runs in memory. What
 * recovery found is logged (stderr): the records folded, a torn record cut off, a snapshot skipped, rooms the
 * configuration no longer names. Throws ConfigError when the directory is in use or cannot be recovered.
 */
export async function openServerDataDir(config: ServerConfig, logger: Logger): Promise<DurableStore | null> {
  if (config.dataDir === null) return null;
  const store = await DurableStore.open(config.dataDir, {
    snapshotEveryRecords: config.snapshotEveryRecords,
    snapshotIntervalMs: config.snapshotIntervalMs,
    report: (line) => logger.warn({ dataDir: config.dataDir }, line),
    onError: (error) => logger.error({ err: error, dataDir: config.dataDir }, 'data dir write failed'),
  });
  const { recovered } = store;
  const places = [...recovered.rooms.values()].reduce((sum, room) => sum + room.state.queue.size + room.state.seats.size, 0);
  logger.info(
    { dataDir: config.dataDir, snapshot: recovered.snapshot?.name ?? null, tail: recovered.tail, lastSeq: recovered.lastSeq, rooms: recovered.rooms.size, places },
    'data dir recovered',
  );
  for (const name of store.unservedRooms(config.rooms)) {
    logger.warn({ room: name, dataDir: config.dataDir }, 'the data dir holds a room the configuration does not name: it is not served');
  }
  return store;
}
