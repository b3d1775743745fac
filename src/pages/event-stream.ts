import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventLog } from '../log/event-log.js';
import type { EventRecord } from '../log/event-record.js';
import type { RoomActivity } from './room-activity.js';

export interface EventStreamOptions {
  /** Records sent at most once per this interval, as one batch. */
  batchMs?: number;
  /** Room counts are sent this often (and with every batch). */
  roomsMs?: number;
  /** Most records per batch; older ones in a burst are skipped and counted. */
  maxBatch?: number;
  /** Records sent first, from the log's ring. */
  recent?: number;
}

/** Unsent bytes after which a slow dashboard misses batches instead of growing the server's memory. */
const maxBufferedBytes = 1024 * 1024;

/**
 * `GET /api/events/stream`: the dashboard's feed as server-sent events. `snapshot` first (room counts,
 * queue-length history, the recent records), then `records` batches of the live log tail and `rooms` counts.
 * Records are batched so a busy log costs one write per interval per dashboard, not one per record.
 */
export function serveEventStream(
  request: IncomingMessage,
  response: ServerResponse,
  log: EventLog,
  activity: RoomActivity,
  options: EventStreamOptions = {},
): void {
  const batchMs = options.batchMs ?? 250;
  const roomsMs = options.roomsMs ?? 1000;
  const maxBatch = options.maxBatch ?? 200;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  response.write('retry: 2000\n\n');
  send('snapshot', {
    at: Date.now(),
    rooms: activity.stats(),
    history: activity.queueHistory(),
    recent: log.since(Math.max(0, log.lastSeq - (options.recent ?? 60))),
    lastSeq: log.lastSeq,
  });

  let pending: EventRecord[] = [];
  let skipped = 0;
  let lastRoomsAt = Date.now();
  const onRecord = (record: EventRecord) => {
    pending.push(record);
    if (pending.length > maxBatch * 2) {
      skipped += pending.length - maxBatch;
      pending = pending.slice(-maxBatch);
    }
  };
  log.on('record', onRecord);
  const timer = setInterval(() => {
    const now = Date.now();
    if (pending.length > 0) {
      const records = pending.length > maxBatch ? pending.slice(-maxBatch) : pending;
      skipped += pending.length - records.length;
      pending = [];
      if (response.writableLength > maxBufferedBytes) {
        skipped += records.length;
      } else {
        send('records', { records, skipped });
        skipped = 0;
      }
    }
    if (now - lastRoomsAt >= roomsMs) {
      lastRoomsAt = now;
      send('rooms', { at: now, rooms: activity.stats() });
    }
  }, batchMs);

  const stop = () => {
    clearInterval(timer);
    log.off('record', onRecord);
  };
  request.on('close', stop);
  response.on('close', stop);

  function send(event: string, data: unknown): void {
    response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
