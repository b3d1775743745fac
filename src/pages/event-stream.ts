import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventLog } from '../log/event-log.js';
import type { EventRecord } from '../log/event-record.js';
import type { RoomActivity } from './room-activity.js';

export interface EventStreamOptions {
  /** Records sent at most once per this interval (ms), as one batch. */
  batchMs?: number;
  /** Room counts are sent this often (ms). */
  roomsMs?: number;
  /** Most records per batch; older ones in a burst are skipped and counted. */
  maxBatch?: number;
  /** Records sent first, from the log's ring. */
  recent?: number;
  /** Streams open at once, from everyone; past it a new one is refused with 503. 0 = no limit. */
  maxStreams?: number;
  /** Streams open at once from one client address; past it a new one is refused with 429. 0 = no limit. */
  maxStreamsPerAddress?: number;
}

export const defaultMaxEventStreams = 32;
export const defaultMaxEventStreamsPerAddress = 4;

/** Unsent bytes after which a slow dashboard misses batches instead of growing the server's memory. */
const maxBufferedBytes = 1024 * 1024;

/** Seconds a refused dashboard is asked to wait before it tries again. */
const retryAfterSeconds = 5;

interface Subscriber {
  response: ServerResponse;
  address: string;
  /** Records this subscriber missed because it read too slowly. */
  skipped: number;
}

/**
 * `GET /api/events/stream`: the dashboard's feed as server-sent events. `snapshot` first (room counts,
 * queue-length history, the recent records), then `records` batches of the live log tail and `rooms` counts.
 * One hub serves every stream: one log listener and one timer, and each batch and each room count is
 * serialised once and written to every stream, so a crowd of dashboards costs writes, not JSON work. The
 * number of streams is capped, in total and per client address.
 */
export class EventStreamHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly perAddress = new Map<string, number>();
  private pending: EventRecord[] = [];
  private burstSkipped = 0;
  private lastRoomsAt = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly options: Required<EventStreamOptions>;
  private readonly onRecord = (record: EventRecord) => this.absorb(record);

  constructor(
    private readonly log: EventLog,
    private readonly activity: RoomActivity,
    options: EventStreamOptions = {},
  ) {
    this.options = {
      batchMs: options.batchMs ?? 250,
      roomsMs: options.roomsMs ?? 1000,
      maxBatch: options.maxBatch ?? 200,
      recent: options.recent ?? 60,
      maxStreams: options.maxStreams ?? defaultMaxEventStreams,
      maxStreamsPerAddress: options.maxStreamsPerAddress ?? defaultMaxEventStreamsPerAddress,
    };
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.subscribers.size;
  }

  /**
   * Answers one stream request from `address`: a stream that stays open until the client goes, or a
   * refusal (503 when every stream is taken, 429 when this address holds its share).
   */
  serve(request: IncomingMessage, response: ServerResponse, address: string): void {
    const { maxStreams, maxStreamsPerAddress } = this.options;
    if (maxStreams > 0 && this.subscribers.size >= maxStreams) return refuse(response, 503, 'too many event streams open');
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (maxStreamsPerAddress > 0 && fromAddress >= maxStreamsPerAddress) {
      return refuse(response, 429, 'too many event streams open from this address');
    }
    const subscriber: Subscriber = { response, address, skipped: 0 };
    this.subscribers.add(subscriber);
    this.perAddress.set(address, fromAddress + 1);
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(`retry: 2000\n\n${frame('snapshot', JSON.stringify(this.snapshot()))}`);
    const leave = () => this.leave(subscriber);
    request.once('close', leave);
    response.once('close', leave);
    this.start();
  }

  /** Ends every stream and stops listening to the log. */
  stop(): void {
    for (const subscriber of [...this.subscribers]) {
      this.leave(subscriber);
      subscriber.response.destroy();
    }
  }

  private snapshot() {
    return {
      at: Date.now(),
      rooms: this.activity.stats(),
      history: this.activity.queueHistory(),
      recent: this.log.since(Math.max(0, this.log.lastSeq - this.options.recent)),
      lastSeq: this.log.lastSeq,
    };
  }

  private start(): void {
    if (this.timer) return;
    this.log.on('record', this.onRecord);
    this.lastRoomsAt = Date.now();
    this.timer = setInterval(() => this.tick(), this.options.batchMs);
    this.timer.unref?.();
  }

  private leave(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    const count = (this.perAddress.get(subscriber.address) ?? 1) - 1;
    if (count <= 0) this.perAddress.delete(subscriber.address);
    else this.perAddress.set(subscriber.address, count);
    if (this.subscribers.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.log.off('record', this.onRecord);
    this.pending = [];
    this.burstSkipped = 0;
  }

  private absorb(record: EventRecord): void {
    this.pending.push(record);
    const { maxBatch } = this.options;
    if (this.pending.length > maxBatch * 2) {
      this.burstSkipped += this.pending.length - maxBatch;
      this.pending = this.pending.slice(-maxBatch);
    }
  }

  private tick(): void {
    const now = Date.now();
    if (this.pending.length > 0) this.sendRecords();
    if (now - this.lastRoomsAt >= this.options.roomsMs) {
      this.lastRoomsAt = now;
      const text = frame('rooms', JSON.stringify({ at: now, rooms: this.activity.stats() }));
      for (const subscriber of this.subscribers) {
        if (subscriber.response.writableLength <= maxBufferedBytes) subscriber.response.write(text);
      }
    }
  }

  /** One batch for everyone: the records are serialised once; only the skipped count differs per stream. */
  private sendRecords(): void {
    const { maxBatch } = this.options;
    const records = this.pending.length > maxBatch ? this.pending.slice(-maxBatch) : this.pending;
    const burst = this.burstSkipped + this.pending.length - records.length;
    this.pending = [];
    this.burstSkipped = 0;
    const recordsJson = JSON.stringify(records);
    for (const subscriber of this.subscribers) {
      if (subscriber.response.writableLength > maxBufferedBytes) {
        subscriber.skipped += burst + records.length;
        continue;
      }
      const skipped = subscriber.skipped + burst;
      subscriber.skipped = 0;
      subscriber.response.write(frame('records', `{"skipped":${skipped},"records":${recordsJson}}`));
    }
  }
}

function frame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}

function refuse(response: ServerResponse, status: 429 | 503, message: string): void {
  const text = JSON.stringify({ error: status === 429 ? 'too_many_requests' : 'unavailable', message });
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'retry-after': String(retryAfterSeconds),
  });
  response.end(text);
}
