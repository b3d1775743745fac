import type { EventLog } from '../log/event-log.js';
import type { EventRecord } from '../log/event-record.js';
import { roomView } from '../server/http-api.js';
import type { ServedRoom } from '../server/anteroom-server.js';

/** One room as the dashboard shows it. */
export interface RoomStats extends ReturnType<typeof roomView> {
  admissionsPerMinute: number;
  evictionsPerMinute: number;
}

/** Counts per second over the last minute, in a ring of 60 one-second buckets. */
class MinuteCounter {
  private readonly counts = new Uint32Array(60);
  private readonly stamps = new Float64Array(60).fill(-1);

  add(second: number): void {
    const slot = second % 60;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += 1;
  }

  /** Events in the 60 seconds up to and including `second`. */
  total(second: number): number {
    let sum = 0;
    for (let slot = 0; slot < 60; slot++) if (this.stamps[slot]! > second - 60) sum += this.counts[slot]!;
    return sum;
  }
}

export interface RoomActivityOptions {
  /** How much queue-length history is kept per room, sampled once a second. */
  historyMs?: number;
  now?: () => number;
}

/**
 * What the dashboard needs beyond a room's current counts: admissions and evictions in the last minute (from
 * the event log as it is written) and a once-a-second history of queue lengths, so a dashboard opened now
 * shows the last minutes too. O(1) per record; the sampling timer does not keep the process alive.
 */
export class RoomActivity {
  private readonly admissions = new Map<string, MinuteCounter>();
  private readonly evictions = new Map<string, MinuteCounter>();
  private readonly history = new Map<string, [at: number, queued: number][]>();
  private readonly historyMs: number;
  private readonly now: () => number;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly onRecord = (record: EventRecord) => {
    if (record.kind === 'admitted') counter(this.admissions, record.room).add(Math.floor(this.now() / 1000));
    else if (record.kind === 'evicted') counter(this.evictions, record.room).add(Math.floor(this.now() / 1000));
  };

  constructor(
    private readonly log: EventLog,
    private readonly rooms: ReadonlyMap<string, ServedRoom>,
    options: RoomActivityOptions = {},
  ) {
    this.historyMs = options.historyMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    log.on('record', this.onRecord);
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stats(): RoomStats[] {
    const second = Math.floor(this.now() / 1000);
    return [...this.rooms.values()].map((room) => ({
      ...roomView(room),
      admissionsPerMinute: this.admissions.get(room.runtime.name)?.total(second) ?? 0,
      evictionsPerMinute: this.evictions.get(room.runtime.name)?.total(second) ?? 0,
    }));
  }

  /** Queue length samples per room, oldest first. */
  queueHistory(): Record<string, [number, number][]> {
    return Object.fromEntries([...this.history].map(([room, samples]) => [room, samples.slice()]));
  }

  stop(): void {
    clearInterval(this.timer);
    this.log.off('record', this.onRecord);
  }

  private sample(): void {
    const at = this.now();
    for (const room of this.rooms.values()) {
      let samples = this.history.get(room.runtime.name);
      if (!samples) this.history.set(room.runtime.name, (samples = []));
      samples.push([at, room.runtime.queueLength]);
      // At one sample a second the oldest are few: dropping them one by one stays cheap.
      while (samples.length > 0 && samples[0]![0] < at - this.historyMs) samples.shift();
    }
  }
}

function counter(map: Map<string, MinuteCounter>, room: string): MinuteCounter {
  let found = map.get(room);
  if (!found) map.set(room, (found = new MinuteCounter()));
  return found;
}
