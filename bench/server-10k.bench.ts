/**
 * anteroom with 10k queued connections against a raw `ws` server measured in the same run: (a) memory per
 * connection, (b) time to place every connection, (c) promotion latency, (d) how soon every waiter sees its
 * new exact position after a promotion, (e) fan-out sends and server CPU per promotion. Each server runs in a
 * child process started with --expose-gc, so memory is read after a full collection; the clients run in two
 * more child processes, so their memory and CPU never count as the server's: "bulk" holds the 10k queued
 * connections, "head" the first places (5 seats and the next 250 in line), whose event loop stays quiet
 * enough to time promotions. The bulk process runs at a lower priority (nice 10) so that, on a small
 * machine, parsing its 10k updates does not take the CPU the server needs. All traffic stays on 127.0.0.1.
 * Prints figures only.
 *
 *   npx tsx bench/server-10k.bench.ts
 *   ANTEROOM_BENCH_SERVER_FLAGS=--cpu-prof npx tsx bench/server-10k.bench.ts   # extra node flags, server children only
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nanoid } from 'nanoid';
import { WebSocket, WebSocketServer } from 'ws';
import { parseServeArgs } from '../src/config/server-config.js';
import type { RoomRuntime } from '../src/rooms/room-runtime.js';
import { createAnteroomServer, type AnteroomServer } from '../src/server/anteroom-server.js';
import { createLogger } from '../src/server/logger.js';
import { epochNow, openFileLimit, ROLE_ENV, RoleProcess, serveRequests, spawnRole } from './role-process.js';
import { closeClient } from './close-client.js';
import { placeClients, type Placement, type PlacedListener } from './place-clients.js';
import { quantile } from './quantile.js';

/** Connections in the bulk client process: the "10k queued". */
const QUEUED = 10_000;
const CAPACITY = 5;
/** Places behind the seats held by the head process; each promotion below uses one. */
const HEAD_QUEUED = 250;
const HEAD_CLIENTS = CAPACITY + HEAD_QUEUED;
const PROMOTIONS = 200;
/** Pause between timed promotions, so position flushes and sweeps interleave with them as in service. */
const PROMOTION_GAP_MS = 25;
/** Connections opened at once while placing; more would overflow the listen backlog and time SYN retries. */
const CONNECT_CONCURRENCY = 200;
/** Opened and closed before the baseline, so compiled code and pools are not counted per connection. */
const WARMUP_CONNECTIONS = 1_000;
const HEARTBEAT_INTERVAL_MS = 2_000;
/**
 * Queued sessions get a ping frame every 15 s by default; 10k of them arrive in a burst that would land in
 * the CPU windows below. Moved out of the run's span; clients still answer ping frames (ws does by default).
 */
const QUEUE_PING_MS = 120_000;
/** Protocol v1 freshness beyond 1,000 queued: the first 1,000 places within 1 s, every place within 5 s. */
const HEAD_PLACES = 1_000;
const HEAD_BUDGET_MS = 1_000;
const ALL_BUDGET_MS = 5_000;
/** How long after a promotion's fan-out timers the CPU window stays open. */
const FANOUT_SETTLE_MS = 4_000;
const IDLE_WINDOW_MS = 2_000;
const SERVER_FLAGS_ENV = 'ANTEROOM_BENCH_SERVER_FLAGS';
/** Scheduling priority of the bulk client process (higher is nicer to others). */
const BULK_NICENESS = 10;
/** The run gives up past this, so it always stops by itself. */
const DEADLINE_MS = 170_000;

type Role = 'anteroom-server' | 'raw-server' | 'clients';

const benchFile = fileURLToPath(import.meta.url);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Extra node flags for the server children, from the environment. */
function serverNodeFlags(): string[] {
  return [...(process.env[SERVER_FLAGS_ENV] ?? '').split(' ').filter((flag) => flag !== '')];
}

// ---------------------------------------------------------------------------------------------------------
// Server side (child processes)

interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
}

interface ServerUsage {
  /** User + system CPU of the server process, in microseconds. */
  cpuUs: number;
  systemUs: number;
  /** Position updates sent by the fan-out so far (anteroom only). */
  feedSends: number;
  queued: number;
  active: number;
}

/** Server-side promotion timing: from the seat holder's `closed` input to the decision and to the send. */
interface ServerPromotion {
  /** Epoch ms of the `closed` input, to line up with the client's close() call. */
  closedAt: number;
  decidedMs: number;
  sentMs: number;
}

interface ServerAddress {
  url: string;
  fdLimit: number | null;
}

/** How late the server's event loop ran its turns, in ms, since the previous reading. */
interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

async function memoryAfterGc(): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start the server child with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

function cpuUsage(): Pick<ServerUsage, 'cpuUs' | 'systemUs'> {
  const { user, system } = process.cpuUsage();
  return { cpuUs: user + system, systemUs: system };
}

/**
 * Times each promotion inside the server: a seated connection's `closed` record starts the clock, the next
 * `admitted` record is the decision, and that connection's first `active` status through ws.send ends it.
 */
function timePromotions(server: AnteroomServer, runtime: RoomRuntime): ServerPromotion[] {
  const done: ServerPromotion[] = [];
  let seatClosedAt: number | null = null;
  let seatClosedAtEpoch = 0;
  server.log.on('record', (record) => {
    if (record.conn === null) return;
    if (record.kind === 'closed' && runtime.isActive(record.conn)) {
      seatClosedAt = performance.now();
      seatClosedAtEpoch = epochNow();
    } else if (record.kind === 'admitted' && seatClosedAt !== null) {
      const since = seatClosedAt;
      const closedAt = seatClosedAtEpoch;
      seatClosedAt = null;
      const decidedMs = performance.now() - since;
      const ws = server.clients.get(record.conn)?.ws;
      if (!ws) return;
      const send = ws.send;
      ws.send = function (this: WebSocket, ...args: Parameters<WebSocket['send']>) {
        if (typeof args[0] === 'string' && args[0].includes('"status":"active"')) {
          done.push({ closedAt, decidedMs, sentMs: performance.now() - since });
          Reflect.deleteProperty(ws, 'send');
        }
        return send.apply(this, args);
      } as WebSocket['send'];
    }
  });
  return done;
}

async function runAnteroomServer(): Promise<void> {
  const flags = ['--host', '127.0.0.1', '--port', '0', '--capacity', String(CAPACITY), '--log-level', 'silent'];
  flags.push('--max-connections', '0', '--max-connections-per-ip', '0', '--queue-ping', String(QUEUE_PING_MS));
  flags.push('--heartbeat-interval', String(HEARTBEAT_INTERVAL_MS));
  const server = await createAnteroomServer(parseServeArgs(flags, {}), { logger: createLogger('silent', false) });
  const { url } = await server.listen();
  const room = server.rooms.get('main')!;
  const promotions = timePromotions(server, room.runtime);
  // Sampled only while promotions are timed: its 1 ms timer would otherwise count as idle CPU.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  serveRequests({
    address: (): ServerAddress => ({ url, fdLimit: openFileLimit() }),
    memory: memoryAfterGc,
    usage: (): ServerUsage => ({
      ...cpuUsage(),
      feedSends: room.feed.sends,
      queued: room.runtime.queueLength,
      active: room.runtime.activeCount,
    }),
    takePromotions: (): ServerPromotion[] => promotions.splice(0),
    startLoopDelay: () => {
      loopDelay.reset();
      loopDelay.enable();
    },
    takeLoopDelay: (): LoopDelay => {
      loopDelay.disable();
      return { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    },
  });
}

/** The baseline: a plain ws server that keeps its sockets and sends each one status-sized message. */
async function runRawServer(): Promise<void> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 65_536, perMessageDeflate: false });
  let placed = 0;
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    placed++;
    const session = nanoid();
    ws.send(
      JSON.stringify({
        type: 'status',
        status: 'queued',
        position: placed,
        queueLength: placed,
        session,
        resumeToken: `${session}.${nanoid(43)}`,
        etaMs: null,
      }),
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  serveRequests({
    address: (): ServerAddress => ({ url: `ws://127.0.0.1:${port}`, fdLimit: openFileLimit() }),
    memory: memoryAfterGc,
    usage: (): ServerUsage => ({ ...cpuUsage(), feedSends: 0, queued: wss.clients.size, active: 0 }),
    takePromotions: (): ServerPromotion[] => [],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Client side (child processes)

interface PlaceResult extends Placement {
  active: number;
}

/** What one waiter saw after a promotion: the position it should get, and when it got it (epoch ms). */
interface ShiftReport {
  expected: number[];
  receivedAt: (number | null)[];
  /** Statuses that were neither the old position nor the expected one. */
  unexpected: number;
  /** When the waiter at position 1 got `active`, if it is in this process. */
  headAdmittedAt: number | null;
}

interface Promotion {
  /** Client-observed: close of the seat holder → `active` received by the head. */
  latencyMs: number;
  closedAt: number;
  /** The new seat holder's last known place: 1 when positions were current. */
  headWasAt: number;
}

class BenchClient {
  readonly ws: WebSocket;
  firstAt = -1;
  position = 0;
  active = false;
  expected = -1;
  expectedAt: number | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;

  constructor(
    url: string,
    private readonly fleet: ClientFleet,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data) => this.receive(data.toString()));
    this.ws.on('error', () => {});
    this.ws.on('close', () => {
      if (this.pinger) clearInterval(this.pinger);
      this.pinger = null;
      if (this.firstAt < 0) fleet.failedBeforePlacement(this);
    });
  }

  private receive(text: string): void {
    const firstMessage = this.firstAt < 0;
    if (firstMessage) this.firstAt = performance.now();
    const message = JSON.parse(text) as { type: string; status?: string; position?: number };
    if (message.type === 'status' && message.status === 'queued' && typeof message.position === 'number') {
      if (this.expected > 0) {
        if (message.position === this.expected) this.expectedAt ??= epochNow();
        else if (message.position !== this.position) this.fleet.unexpected++;
      }
      this.position = message.position;
    } else if (message.type === 'status' && message.status === 'active' && !this.active) {
      this.active = true;
      if (this.expected === 0) this.expectedAt ??= epochNow();
      this.pinger = setInterval(() => this.ws.send('{"type":"ping"}'), HEARTBEAT_INTERVAL_MS);
      this.fleet.admitted(this);
    }
    if (firstMessage) this.fleet.placedOne(this);
  }

  /** Stops the pinger and closes; `graceful` waits for the close handshake (a deliberate close, 1000). */
  close(graceful: boolean): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    return closeClient(this.ws, graceful);
  }
}

class ClientFleet {
  clients: BenchClient[] = [];
  /** Seat holders in the order they were admitted; promotions close the earliest. */
  actives: BenchClient[] = [];
  unexpected = 0;
  private onPlaced: PlacedListener | null = null;
  private onAdmitted: ((client: BenchClient) => void) | null = null;

  placedOne(client: BenchClient): void {
    this.onPlaced?.(true, client.firstAt);
  }

  failedBeforePlacement(client: BenchClient): void {
    this.onPlaced?.(false, client.firstAt);
  }

  admitted(client: BenchClient): void {
    this.actives.push(client);
    this.onAdmitted?.(client);
  }

  async connect({ url, count, concurrency }: { url: string; count: number; concurrency: number }): Promise<PlaceResult> {
    const placement = await placeClients({
      count,
      concurrency,
      timeoutMs: 60_000,
      open: () => this.clients.push(new BenchClient(url, this)),
      listen: (listener) => (this.onPlaced = listener),
    });
    return { ...placement, active: this.actives.length };
  }

  positions(): number[] {
    return this.clients.filter((client) => !client.active && client.ws.readyState === WebSocket.OPEN).map((client) => client.position);
  }

  /** From now on, every waiter watches for its position moved up by one (the head, for `active`). */
  expectOnePromotion(): number {
    this.unexpected = 0;
    let armed = 0;
    for (const client of this.clients) {
      if (client.active || client.ws.readyState !== WebSocket.OPEN) continue;
      client.expected = client.position - 1;
      client.expectedAt = null;
      armed++;
    }
    return armed;
  }

  shiftReport(): ShiftReport {
    const report: ShiftReport = { expected: [], receivedAt: [], unexpected: this.unexpected, headAdmittedAt: null };
    for (const client of this.clients) {
      if (client.expected < 0) continue;
      if (client.expected === 0) report.headAdmittedAt = client.expectedAt;
      else {
        report.expected.push(client.expected);
        report.receivedAt.push(client.expectedAt);
      }
      client.expected = -1;
    }
    return report;
  }

  /** Closes the earliest seat holder, `count` times, each time waiting for the next head's `active`. */
  async promote({ count, gapMs }: { count: number; gapMs: number }): Promise<Promotion[]> {
    const promotions: Promotion[] = [];
    for (let i = 0; i < count; i++) {
      const leaving = this.actives.shift();
      if (!leaving) throw new Error('no seat holder left to close');
      const admitted = new Promise<BenchClient>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no admission within 5 s of promotion ${i + 1}`)), 5_000);
        this.onAdmitted = (client) => {
          clearTimeout(timer);
          this.onAdmitted = null;
          resolve(client);
        };
      });
      const closedAt = epochNow();
      const start = performance.now();
      void leaving.close(true);
      const head = await admitted;
      promotions.push({ latencyMs: performance.now() - start, closedAt, headWasAt: head.position });
      if (gapMs > 0) await sleep(gapMs);
    }
    return promotions;
  }

  async closeAll({ graceful }: { graceful: boolean }): Promise<number> {
    const closing = this.clients.map((client) => client.close(graceful));
    await Promise.all(closing);
    const closed = this.clients.length;
    this.clients = [];
    this.actives = [];
    return closed;
  }
}

function runClients(): void {
  const fleet = new ClientFleet();
  serveRequests({
    fdLimit: () => openFileLimit(),
    connect: (args: { url: string; count: number; concurrency: number }) => fleet.connect(args),
    positions: () => fleet.positions(),
    expectOnePromotion: () => fleet.expectOnePromotion(),
    shiftReport: () => fleet.shiftReport(),
    promote: (args: { count: number; gapMs: number }) => fleet.promote(args),
    closeAll: (args: { graceful: boolean }) => fleet.closeAll(args),
  });
}

// ---------------------------------------------------------------------------------------------------------
// The run (parent process)

/** Server children still running, so a failed run still ends them. */
const running = new Set<RoleProcess>();

interface ServerRun {
  server: RoleProcess;
  address: ServerAddress;
  before: MemoryFigures;
  after: MemoryFigures;
  connections: number;
  placeMs: number;
  failed: number;
}

/** Starts a server, warms it, then places the head clients and the 10k bulk, reading memory around it. */
async function placeEveryone(role: 'anteroom-server' | 'raw-server', head: RoleProcess, bulk: RoleProcess): Promise<ServerRun> {
  const server = spawnRole(benchFile, role, { nodeFlags: serverNodeFlags() });
  running.add(server);
  const address = await server.call<ServerAddress>('address');
  await bulk.call('connect', { url: address.url, count: WARMUP_CONNECTIONS, concurrency: CONNECT_CONCURRENCY });
  await bulk.call('closeAll', { graceful: true });
  await sleep(200);
  const before = await server.call<MemoryFigures>('memory');
  const first = await head.call<PlaceResult>('connect', { url: address.url, count: HEAD_CLIENTS, concurrency: CONNECT_CONCURRENCY });
  const rest = await bulk.call<PlaceResult>('connect', { url: address.url, count: QUEUED, concurrency: CONNECT_CONCURRENCY });
  const after = await server.call<MemoryFigures>('memory');
  return {
    server,
    address,
    before,
    after,
    connections: first.placed + rest.placed,
    placeMs: rest.placeMs,
    failed: first.failed + rest.failed,
  };
}

async function tearDown(run: ServerRun, head: RoleProcess, bulk: RoleProcess): Promise<void> {
  await Promise.all([head.call('closeAll', { graceful: false }), bulk.call('closeAll', { graceful: false })]);
  await run.server.exit();
  running.delete(run.server);
}

interface FreshnessFigures {
  waiters: number;
  headWaiters: number;
  headInTime: number;
  allInTime: number;
  neverSeen: number;
  unexpected: number;
  headP50: number;
  headMax: number;
  allP50: number;
  allMax: number;
  /** Close of the seat holder → `active` at the head, client-observed. */
  admissionMs: number | null;
  /** The new seat holder's position before the promotion: 1 when the line was served in order. */
  headWasAt: number | null;
  positionsExactBefore: boolean;
}

interface FanoutFigures {
  promotions: number;
  sends: number;
  cpuMs: number;
  systemMs: number;
  /** cpuMs less what the server spends idle (heartbeats) over the same window. */
  cpuMsLessIdle: number;
  windowMs: number;
}

export interface Server10kReport {
  connections: number;
  /** What the anteroom server counted once everyone was placed. */
  serverCounts: { queued: number; active: number };
  fdLimits: Record<string, number | null>;
  raw: { bytesHeap: number; bytesRss: number; placeMs: number };
  anteroom: { bytesHeap: number; bytesRss: number; placeMs: number };
  promotion: {
    endToEnd: LatencyStats;
    closeHandshake: LatencyStats | null;
    decided: LatencyStats;
    sent: LatencyStats;
    loopDelay: LoopDelay;
  };
  freshness: FreshnessFigures;
  fanoutSingle: FanoutFigures;
  fanoutSeries: FanoutFigures;
  /** Server CPU with 10k queued and no promotions, ms per second. */
  idleCpuMsPerS: number;
  totalMs: number;
}

interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  overBudget: number;
  count: number;
}

/** The aim for a promotion: the head is told within 5 ms. */
const PROMOTION_BUDGET_MS = 5;

function latencyStats(values: number[]): LatencyStats {
  return {
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
    overBudget: values.filter((value) => value > PROMOTION_BUDGET_MS).length,
    count: values.length,
  };
}

/** True when the positions held across both client processes are exactly 1..n. */
function positionsAreExact(positions: number[]): boolean {
  const seen = new Uint8Array(positions.length + 1);
  for (const position of positions) {
    if (!(position >= 1 && position <= positions.length) || seen[position]) return false;
    seen[position] = 1;
  }
  return true;
}

async function idleCpuRate(server: RoleProcess): Promise<number> {
  const start = await server.call<ServerUsage>('usage');
  const startedAt = performance.now();
  await sleep(IDLE_WINDOW_MS);
  const end = await server.call<ServerUsage>('usage');
  return (end.cpuUs - start.cpuUs) / 1000 / (performance.now() - startedAt);
}

async function measureFanout(server: RoleProcess, idleMsPerMs: number, promotions: number, act: () => Promise<void>): Promise<FanoutFigures> {
  const start = await server.call<ServerUsage>('usage');
  const startedAt = performance.now();
  await act();
  await sleep(FANOUT_SETTLE_MS);
  const end = await server.call<ServerUsage>('usage');
  const windowMs = performance.now() - startedAt;
  const cpuMs = (end.cpuUs - start.cpuUs) / 1000;
  const systemMs = (end.systemUs - start.systemUs) / 1000;
  return { promotions, sends: end.feedSends - start.feedSends, cpuMs, systemMs, cpuMsLessIdle: cpuMs - idleMsPerMs * windowMs, windowMs };
}

async function measureFreshness(server: RoleProcess, head: RoleProcess, bulk: RoleProcess, idleMsPerMs: number) {
  const positions = [...(await head.call<number[]>('positions')), ...(await bulk.call<number[]>('positions'))];
  const positionsExactBefore = positionsAreExact(positions);
  await Promise.all([head.call('expectOnePromotion'), bulk.call('expectOnePromotion')]);
  let promotion: Promotion | undefined;
  const fanout = await measureFanout(server, idleMsPerMs, 1, async () => {
    [promotion] = await head.call<Promotion[]>('promote', { count: 1, gapMs: 0 });
    // The fan-out budget is 5 s from the change; the CPU window then settles past it.
    await sleep(ALL_BUDGET_MS + 500 - FANOUT_SETTLE_MS);
  });
  const reports = [await head.call<ShiftReport>('shiftReport'), await bulk.call<ShiftReport>('shiftReport')];
  const closedAt = promotion!.closedAt;
  const headDelays: number[] = [];
  const allDelays: number[] = [];
  let headInTime = 0;
  let allInTime = 0;
  let neverSeen = 0;
  let waiters = 0;
  let headWaiters = 0;
  for (const report of reports) {
    report.expected.forEach((expected, i) => {
      waiters++;
      const at = report.receivedAt[i];
      const delay = at === null || at === undefined ? null : at - closedAt;
      if (delay === null) neverSeen++;
      else allDelays.push(delay);
      if (delay !== null && delay <= ALL_BUDGET_MS) allInTime++;
      if (expected <= HEAD_PLACES) {
        headWaiters++;
        if (delay !== null) headDelays.push(delay);
        if (delay !== null && delay <= HEAD_BUDGET_MS) headInTime++;
      }
    });
  }
  const headAdmittedAt = reports.map((report) => report.headAdmittedAt).find((at) => at !== null) ?? null;
  const freshness: FreshnessFigures = {
    waiters,
    headWaiters,
    headInTime,
    allInTime,
    neverSeen,
    unexpected: reports.reduce((sum, report) => sum + report.unexpected, 0),
    headP50: quantile(headDelays, 0.5),
    headMax: quantile(headDelays, 1),
    allP50: quantile(allDelays, 0.5),
    allMax: quantile(allDelays, 1),
    admissionMs: headAdmittedAt === null ? null : headAdmittedAt - closedAt,
    headWasAt: promotion!.headWasAt,
    positionsExactBefore,
  };
  return { freshness, fanout };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 0)} ms` : 'n/a');

function printTable(title: string, header: string[], body: string[][]): void {
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((line) => (line[c] ?? '').length)));
  const format = (line: string[]): string =>
    line.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  console.log(title);
  console.log(format(header));
  for (const line of body) console.log(format(line));
}

function printReport(report: Server10kReport): void {
  const { raw, anteroom, promotion, freshness, fanoutSingle, fanoutSeries } = report;
  const limits = Object.entries(report.fdLimits)
    .map(([role, limit]) => `${role} ${limit ?? 'unlimited'}`)
    .join(', ');
  console.log(
    `anteroom vs raw ws, ${report.connections.toLocaleString('en')} connections each (anteroom counted ${report.serverCounts.active} active, ` +
      `${report.serverCounts.queued.toLocaleString('en')} queued), Node ${process.version}; open-file limits: ${limits}`,
  );
  console.log(`queue ping frames every ${QUEUE_PING_MS / 1000} s (out of the measured windows); seat holders ping every ${HEARTBEAT_INTERVAL_MS / 1000} s`);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  printTable('(a) memory per connection after GC, (b) time to place everyone', ['figure', 'raw ws', 'anteroom', 'anteroom / raw', 'aim'], [
    ['heapUsed+external / conn', kib(raw.bytesHeap), kib(anteroom.bytesHeap), ratio(anteroom.bytesHeap, raw.bytesHeap), '≤ 1.50×'],
    ['RSS / conn', kib(raw.bytesRss), kib(anteroom.bytesRss), ratio(anteroom.bytesRss, raw.bytesRss), '≤ 1.50×'],
    [`place ${QUEUED.toLocaleString('en')} (connect → first message)`, ms(raw.placeMs), ms(anteroom.placeMs), ratio(anteroom.placeMs, raw.placeMs), ''],
  ]);
  const latencyRow = (label: string, stats: LatencyStats | null) =>
    stats === null
      ? [label, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']
      : [label, ms(stats.p50), ms(stats.p90), ms(stats.p99), ms(stats.max), `${stats.overBudget}/${stats.count}`];
  printTable(
    `(c) promotion latency, ${PROMOTIONS} promotions ${PROMOTION_GAP_MS} ms apart, each a seat holder's close → the head's \`active\` (aim: p99 ≤ ${PROMOTION_BUDGET_MS} ms)`,
    ['span', 'p50', 'p90', 'p99', 'max', `> ${PROMOTION_BUDGET_MS} ms`],
    [
      latencyRow('client: close() → active received', promotion.endToEnd),
      latencyRow('  of which close() → server `closed` input', promotion.closeHandshake),
      latencyRow('server: `closed` → `admitted` decided', promotion.decided),
      latencyRow('server: `closed` → active status sent', promotion.sent),
    ],
  );
  console.log(
    `    server event-loop delay during the promotions: p50 ${ms(promotion.loopDelay.p50)}, p99 ${ms(promotion.loopDelay.p99)}, max ${ms(promotion.loopDelay.max)}`,
  );
  printTable(
    `(d) positions after one promotion: each waiter's new exact position, timed from the seat holder's close`,
    ['places', 'waiters', 'right in time', 'budget', 'p50', 'max'],
    [
      [`first ${HEAD_PLACES.toLocaleString('en')}`, String(freshness.headWaiters), String(freshness.headInTime), ms(HEAD_BUDGET_MS), ms(freshness.headP50), ms(freshness.headMax)],
      ['all', String(freshness.waiters), String(freshness.allInTime), ms(ALL_BUDGET_MS), ms(freshness.allP50), ms(freshness.allMax)],
    ],
  );
  console.log(
    `    positions exact before the promotion: ${freshness.positionsExactBefore ? 'yes' : 'NO'}; never got the new one: ${freshness.neverSeen}; ` +
      `wrong positions received: ${freshness.unexpected}; ` +
      `the waiter at ${freshness.headWasAt ?? 'n/a'} was admitted after ${freshness.admissionMs === null ? 'n/a' : ms(freshness.admissionMs)}`,
  );
  const fanoutRow = (label: string, f: FanoutFigures) => [
    label,
    (f.sends / f.promotions).toFixed(0),
    ms(f.cpuMs / f.promotions),
    `${((100 * f.systemMs) / f.cpuMs).toFixed(0)}%`,
    ms(f.cpuMsLessIdle / f.promotions),
    f.sends > 0 ? `${((f.cpuMsLessIdle * 1000) / f.sends).toFixed(1)} µs` : 'n/a',
    ms(f.windowMs),
  ];
  printTable(
    `(e) fan-out cost per promotion in the server process (sends = position updates by the feed; idle CPU ${report.idleCpuMsPerS.toFixed(1)} ms/s)`,
    ['case', 'sends', 'CPU', 'of it system', 'CPU less idle', 'CPU / send', 'window'],
    [
      fanoutRow('one promotion alone', fanoutSingle),
      fanoutRow(`${PROMOTIONS} promotions ${PROMOTION_GAP_MS} ms apart`, fanoutSeries),
    ],
  );
  console.log(`total ${(report.totalMs / 1000).toFixed(1)} s`);
}

export async function main(): Promise<Server10kReport> {
  const head = spawnRole(benchFile, 'clients');
  const bulk = spawnRole(benchFile, 'clients', { niceness: BULK_NICENESS });
  let deadline: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      measureBoth(head, bulk),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`server-10k: still running after ${DEADLINE_MS / 1000} s; stopped`)), DEADLINE_MS);
      }),
    ]);
  } finally {
    clearTimeout(deadline);
    await Promise.all([head.exit(), bulk.exit(), ...[...running].map((server) => server.exit())]);
    running.clear();
  }
}

async function measureBoth(head: RoleProcess, bulk: RoleProcess): Promise<Server10kReport> {
  const startedAt = performance.now();
  const fdLimits: Record<string, number | null> = {
    parent: openFileLimit(),
    clients: await bulk.call<number | null>('fdLimit'),
  };
  const raw = await placeEveryone('raw-server', head, bulk);
  fdLimits['raw server'] = raw.address.fdLimit;
  await tearDown(raw, head, bulk);

  const ante = await placeEveryone('anteroom-server', head, bulk);
  fdLimits['anteroom server'] = ante.address.fdLimit;
  if (ante.failed > 0 || raw.failed > 0) console.log(`connections that failed before placement: raw ${raw.failed}, anteroom ${ante.failed}`);
  const { queued, active } = await ante.server.call<ServerUsage>('usage');
  // Let the fan-out timers armed by the joins and the collector threads started by the GCs for (a) finish.
  await sleep(3_000);
  const idle = await idleCpuRate(ante.server);
  const { freshness, fanout: fanoutSingle } = await measureFreshness(ante.server, head, bulk, idle);
  await ante.server.call('takePromotions');
  await ante.server.call('startLoopDelay');
  let promotions: Promotion[] = [];
  const fanoutSeries = await measureFanout(ante.server, idle, PROMOTIONS, async () => {
    promotions = await head.call<Promotion[]>('promote', { count: PROMOTIONS, gapMs: PROMOTION_GAP_MS });
  });
  const loopDelay = await ante.server.call<LoopDelay>('takeLoopDelay');
  const serverSide = await ante.server.call<ServerPromotion[]>('takePromotions');
  await tearDown(ante, head, bulk);

  const perConnection = (run: ServerRun) => ({
    bytesHeap: (run.after.heapUsed + run.after.external - run.before.heapUsed - run.before.external) / run.connections,
    bytesRss: (run.after.rss - run.before.rss) / run.connections,
    placeMs: run.placeMs,
  });
  const report: Server10kReport = {
    connections: ante.connections,
    serverCounts: { queued, active },
    fdLimits,
    raw: perConnection(raw),
    anteroom: perConnection(ante),
    promotion: {
      endToEnd: latencyStats(promotions.map((p) => p.latencyMs)),
      // Lined up by order: one server-side record per client-side promotion.
      closeHandshake:
        serverSide.length === promotions.length ? latencyStats(promotions.map((p, i) => serverSide[i]!.closedAt - p.closedAt)) : null,
      decided: latencyStats(serverSide.map((p) => p.decidedMs)),
      sent: latencyStats(serverSide.map((p) => p.sentMs)),
      loopDelay,
    },
    freshness,
    fanoutSingle,
    fanoutSeries,
    idleCpuMsPerS: idle * 1000,
    totalMs: performance.now() - startedAt,
  };
  printReport(report);
  return report;
}

const role = process.env[ROLE_ENV] as Role | undefined;
if (role === 'anteroom-server') await runAnteroomServer();
else if (role === 'raw-server') await runRawServer();
else if (role === 'clients') runClients();
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
