import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventLog } from '../log/event-log.js';
import type { DecisionRecord, EventRecord } from '../log/event-record.js';
import { closeReasonForCode } from '../protocol/codes.js';
import type { ServerMessage } from '../protocol/messages.js';
import type { RoomRuntime } from '../rooms/room-runtime.js';

/** What the gauges read at scrape time. */
export interface MetricSources {
  log: EventLog;
  rooms: ReadonlyMap<string, { readonly runtime: Pick<RoomRuntime, 'capacity' | 'activeCount' | 'queueLength' | 'heldCount'> }>;
  openConnections: () => number;
  pendingHandshakes: () => number;
  /** Upgrades granted and waiting their turn to become WebSockets. */
  arrivalsWaiting: () => number;
  /** Node process metrics (CPU, memory, event-loop lag, handles, GC); on by default. */
  processMetrics?: boolean;
}

/** Seconds from a seat being freed to the head of the line being sent its `active` status. */
const promotionBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The server's Prometheus metrics, in a registry of its own so several servers in one process do not clash.
 * Counters about decisions are fed from the event log, so they count exactly what the room decided; the
 * edge adds what never reaches the log (sends, refusals, rate limiting).
 */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly messagesSent: Counter<'type'> = new Counter({ name: 'anteroom_messages_sent_total', help: 'Messages sent to clients, by type.', labelNames: ['type'], registers: [this.registry] });
  readonly errors: Counter<'code'> = new Counter({ name: 'anteroom_errors_total', help: 'Error messages sent to clients, by code.', labelNames: ['code'], registers: [this.registry] });
  readonly rateLimited: Counter = new Counter({ name: 'anteroom_rate_limited_total', help: 'Client messages refused by the rate limit.', registers: [this.registry] });
  readonly floodCloses: Counter = new Counter({ name: 'anteroom_flood_closes_total', help: 'Connections closed with 1008 for flooding.', registers: [this.registry] });
  readonly upgradesRefused: Counter<'reason'> = new Counter({
    name: 'anteroom_upgrades_refused_total',
    help: 'WebSocket upgrades refused (origin: 403; unauthorized: 401; max_connections, max_connections_per_ip, max_connections_per_user: 503).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly handshakesCut: Counter<'reason'> = new Counter({
    name: 'anteroom_handshakes_cut_total',
    help: 'TCP connections cut before a complete request (timeout, too_many_pending, too_many_pending_per_ip).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly eventLogRecordsLost: Counter = new Counter({
    name: 'anteroom_event_log_records_lost_total',
    help: 'Event log records that could not be written to the --event-log file.',
    registers: [this.registry],
  });

  private readonly messagesReceived: Counter<'room' | 'type'> = new Counter({
    name: 'anteroom_messages_received_total',
    help: 'Client messages that passed the rate limit, by type (invalid = refused with an error).',
    labelNames: ['room', 'type'],
    registers: [this.registry],
  });
  private readonly admissions: Counter<'room'> = new Counter({ name: 'anteroom_admissions_total', help: 'Sessions given a seat.', labelNames: ['room'], registers: [this.registry] });
  private readonly evictions: Counter<'room' | 'reason'> = new Counter({
    name: 'anteroom_evictions_total',
    help: 'Sessions ended by the server, by eviction reason.',
    labelNames: ['room', 'reason'],
    registers: [this.registry],
  });
  private readonly releases: Counter<'room' | 'reason'> = new Counter({
    name: 'anteroom_releases_total',
    help: 'Seats and places given up, by reason (left, dropped, hold_expired, superseded, kicked, room_closed, shutdown).',
    labelNames: ['room', 'reason'],
    registers: [this.registry],
  });
  private readonly rejections: Counter<'room' | 'reason'> = new Counter({
    name: 'anteroom_rejections_total',
    help: 'Connections refused a place (queue_full, room_closed).',
    labelNames: ['room', 'reason'],
    registers: [this.registry],
  });
  private readonly slowClientDrops: Counter<'room'> = new Counter({
    name: 'anteroom_slow_client_drops_total',
    help: 'Connections dropped for going over their outbound budget.',
    labelNames: ['room'],
    registers: [this.registry],
  });
  private readonly closes: Counter<'room' | 'code'> = new Counter({
    name: 'anteroom_connections_closed_total',
    help: 'Closed connections by close code (codes outside the protocol table count as "other").',
    labelNames: ['room', 'code'],
    registers: [this.registry],
  });
  private readonly promotionLatency: Histogram<'room'> = new Histogram({
    name: 'anteroom_promotion_latency_seconds',
    help: 'Time from a seat being freed to the head of the line being sent its active status.',
    labelNames: ['room'],
    buckets: promotionBuckets,
    registers: [this.registry],
  });

  /** Per room, when seats were freed in the current synchronous step (a promotion happens in that same step). */
  private readonly seatsFreedThisStep = new Map<string, number[]>();
  private clearScheduled = false;
  /** Promoted connections whose `active` status is not sent yet, with when their seat was freed. */
  private readonly awaitingActive = new Map<string, { room: string; freedAt: number }>();
  private readonly onRecord = (record: EventRecord) => this.absorb(record);

  constructor(private readonly sources: MetricSources) {
    if (sources.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    defineGauges(sources, [this.registry]);
    sources.log.on('record', this.onRecord);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One broadcast went out to `count` connections (serialised once). */
  sentToMany(message: ServerMessage, count: number): void {
    this.messagesSent.inc({ type: message.type }, count);
    if (message.type === 'error') this.errors.inc({ code: message.code }, count);
  }

  /** A message went out to `conn`. */
  sent(message: ServerMessage, conn: string): void {
    this.messagesSent.inc({ type: message.type });
    if (message.type === 'error') this.errors.inc({ code: message.code });
    if (message.type === 'status' && message.status === 'active') {
      const waiting = this.awaitingActive.get(conn);
      if (waiting) {
        this.awaitingActive.delete(conn);
        this.promotionLatency.observe({ room: waiting.room }, (performance.now() - waiting.freedAt) / 1000);
      }
    }
  }

  /** Stops following the event log. */
  close(): void {
    this.sources.log.off('record', this.onRecord);
    this.awaitingActive.clear();
    this.seatsFreedThisStep.clear();
  }

  private absorb(record: EventRecord): void {
    const room = record.room;
    switch (record.kind) {
      case 'message':
        this.messagesReceived.inc({ room, type: record.data.type });
        break;
      case 'admitted': {
        this.admissions.inc({ room });
        const freedAt = this.seatsFreedThisStep.get(room)?.shift();
        if (freedAt !== undefined && record.conn !== null) this.awaitingActive.set(record.conn, { room, freedAt });
        break;
      }
      case 'evicted':
        this.evictions.inc({ room, reason: record.data.reason });
        this.seatEnded(record);
        break;
      case 'released':
        this.releases.inc({ room, reason: record.data.reason });
        this.seatEnded(record);
        break;
      case 'rejected':
        this.rejections.inc({ room, reason: record.data.reason });
        break;
      case 'overflow':
        this.slowClientDrops.inc({ room });
        if (record.conn !== null) this.awaitingActive.delete(record.conn);
        break;
      case 'closed': {
        const code = record.data.code;
        this.closes.inc({ room, code: closeReasonForCode(code) === undefined ? 'other' : String(code) });
        if (record.conn !== null) this.awaitingActive.delete(record.conn);
        break;
      }
      default:
        break;
    }
  }

  private seatEnded(record: Extract<DecisionRecord, { kind: 'evicted' | 'released' }>): void {
    if (record.conn !== null) this.awaitingActive.delete(record.conn);
    if (record.data.from !== 'seat') return;
    let freed = this.seatsFreedThisStep.get(record.room);
    if (!freed) this.seatsFreedThisStep.set(record.room, (freed = []));
    freed.push(performance.now());
    // The room hands a freed seat to the head in the same step; a seat nobody took by then is not a promotion.
    if (!this.clearScheduled) {
      this.clearScheduled = true;
      queueMicrotask(() => {
        this.clearScheduled = false;
        this.seatsFreedThisStep.clear();
      });
    }
  }
}

/** The gauges, read at scrape time from the server's own counts and the rooms' admission states. */
function defineGauges(sources: MetricSources, registers: Registry[]): void {
  new Gauge({
    name: 'anteroom_connections_open',
    help: 'WebSocket connections open now (what the connection limits count).',
    registers,
    collect() {
      this.set(sources.openConnections());
    },
  });
  new Gauge({
    name: 'anteroom_handshakes_pending',
    help: 'TCP connections that have not yet sent a complete HTTP request or upgrade.',
    registers,
    collect() {
      this.set(sources.pendingHandshakes());
    },
  });
  new Gauge({
    name: 'anteroom_arrivals_waiting',
    help: 'Upgrades granted and waiting their turn to become WebSockets (a storm of arrivals is taken in slices).',
    registers,
    collect() {
      this.set(sources.arrivalsWaiting());
    },
  });
  const roomGauge = (name: string, help: string, read: (runtime: Pick<RoomRuntime, 'capacity' | 'activeCount' | 'queueLength' | 'heldCount'>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['room'] as const,
      registers,
      collect() {
        this.reset();
        for (const [room, served] of sources.rooms) this.set({ room }, read(served.runtime));
      },
    });
  roomGauge('anteroom_room_capacity', 'Seats in the room.', (runtime) => runtime.capacity);
  roomGauge('anteroom_room_active', 'Sessions holding a seat.', (runtime) => runtime.activeCount);
  roomGauge('anteroom_room_queued', 'Places in line, live and held.', (runtime) => runtime.queueLength);
  roomGauge('anteroom_room_held', 'Places in line held for a resume after an abnormal disconnect.', (runtime) => runtime.heldCount);
}
