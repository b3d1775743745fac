import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from '../../src/log/event-log.js';
import { EventStreamHub } from '../../src/pages/event-stream.js';
import type { RoomActivity } from '../../src/pages/room-activity.js';

/** A response that keeps what is written to it; `behind` bytes pretend to be unsent. */
class FakeResponse extends EventEmitter {
  status = 0;
  headers: Record<string, string> = {};
  chunks: string[] = [];
  writableLength = 0;
  writeHead(status: number, headers: Record<string, string> = {}) {
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end(chunk?: string) {
    if (chunk) this.chunks.push(chunk);
  }
  destroy() {
    this.emit('close');
  }
  /** The `data` of every frame of `event` written so far. */
  frames(event: string): any[] {
    return this.chunks
      .join('')
      .split('\n\n')
      .filter((frame) => frame.startsWith(`event: ${event}\n`))
      .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)));
  }
}

const activity = { stats: () => [], queueHistory: () => ({}) } as unknown as RoomActivity;

function openStream(hub: EventStreamHub, address = '10.0.0.1'): FakeResponse {
  const request = new EventEmitter() as unknown as IncomingMessage;
  const response = new FakeResponse();
  hub.serve(request, response as unknown as ServerResponse, address);
  return response;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('EventStreamHub', () => {
  it('serialises each batch once and writes it to every stream, however many are open', () => {
    const log = new EventLog();
    const hub = new EventStreamHub(log, activity, { maxStreams: 0, maxStreamsPerAddress: 0, batchMs: 250, roomsMs: 60_000 });
    const streams = Array.from({ length: 50 }, (_, i) => openStream(hub, `10.0.${i}.1`));
    for (let i = 0; i < 20; i++) log.append('main', 'connected', `c${i}`, { session: `s${i}` });
    const stringify = vi.spyOn(JSON, 'stringify');
    vi.advanceTimersByTime(250);
    expect(stringify).toHaveBeenCalledTimes(1);
    for (const stream of streams) {
      const [batch] = stream.frames('records');
      expect(batch.skipped).toBe(0);
      expect(batch.records.map((r: { conn: string }) => r.conn)).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    }
    hub.stop();
  });

  it('refuses streams past the cap with 503 and past an address share with 429, and frees places as streams end', () => {
    const hub = new EventStreamHub(new EventLog(), activity, { maxStreams: 3, maxStreamsPerAddress: 2 });
    const a1 = openStream(hub, 'a');
    openStream(hub, 'a');
    const a3 = openStream(hub, 'a');
    expect([a1.status, a3.status]).toEqual([200, 429]);
    expect(a3.headers['retry-after']).toBe('5');
    openStream(hub, 'b');
    const c = openStream(hub, 'c');
    expect(c.status).toBe(503);
    expect(hub.streamCount).toBe(3);
    a1.emit('close');
    expect(hub.streamCount).toBe(2);
    expect(openStream(hub, 'c').status).toBe(200);
    hub.stop();
    expect(hub.streamCount).toBe(0);
  });

  it('skips batches for a stream that reads too slowly and tells it how many it missed', () => {
    const log = new EventLog();
    const hub = new EventStreamHub(log, activity, { maxStreams: 0, maxStreamsPerAddress: 0, batchMs: 250 });
    const slow = openStream(hub);
    slow.writableLength = 2 * 1024 * 1024;
    log.append('main', 'connected', 'c1', { session: 's1' });
    vi.advanceTimersByTime(250);
    expect(slow.frames('records')).toEqual([]);
    slow.writableLength = 0;
    log.append('main', 'connected', 'c2', { session: 's2' });
    vi.advanceTimersByTime(250);
    expect(slow.frames('records')).toEqual([expect.objectContaining({ skipped: 1, records: [expect.objectContaining({ conn: 'c2' })] })]);
    hub.stop();
  });
});
