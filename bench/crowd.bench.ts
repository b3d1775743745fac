/**
 * The crowd: N connections (5 seats, the rest queued) against three servers in ONE run, so every figure is a
 * ratio within the run: (a) a raw `ws` server, (b) a plain-object waiting room (bench/plain-room.ts: no actors,
 * no log, naive fan-out), (c) anteroom. Each server runs in its own child process (with --expose-gc, so memory
 * is read after a full collection) and reports its own CPU, event-loop blocks (monitorEventLoopDelay) and GC
 * pauses (PerformanceObserver 'gc'). The clients run in two more child processes: "head" holds the seats and
 * the first places (promotions are timed there, on a quiet loop), "bulk" the rest, at a lower priority.
 * Every client pings every 2 s, queued or seated, like a naive client. Figures only; nothing is asserted.
 *
 *   npx tsx bench/crowd.bench.ts [--n 10000] [--n 15000]
 *   ANTEROOM_BENCH_SERVER_FLAGS=--cpu-prof npx tsx bench/crowd.bench.ts   # extra node flags, server children only
 *   ANTEROOM_BENCH_PROFILE_DIR=/tmp/prof npx tsx bench/crowd.bench.ts --only anteroom   # profiles per phase, then:
 *   npx tsx bench/profile-blocks.ts /tmp/prof/anteroom-promote                          # what held the loop
 */
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { parseServeArgs } from '../src/config/server-config.js';
import { createAnteroomServer } from '../src/server/anteroom-server.js';
import { createLogger } from '../src/server/logger.js';
import { recordLateTicks } from './late-ticks.js';
import { closeClient } from './close-client.js';
import { placeClients, type Placement, type PlacedListener } from './place-clients.js';
import { servePlainRoom } from './plain-room.js';
import { quantile } from './quantile.js';
import { epochNow, openFileLimit, ROLE_ENV, RoleProcess, serveRequests, spawnRole } from './role-process.js';

const CAPACITY = 5;
const PROMOTIONS = 100;
const PROMOTION_GAP_MS = 30;
/** Places in line held by the head process: one per timed promotion, and the one freshness promotion. */
const HEAD_CLIENTS = CAPACITY + PROMOTIONS + 20;
const PING_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 30_000;
const CONNECT_CONCURRENCY = 200;
const WARMUP_CONNECTIONS = 1_000;
const STORM_MS = 1_000;
const FRESHNESS_WAIT_MS = 5_000;
const BULK_NICENESS = 10;
/** A connection with no first message by then is cut and counted as failed. */
const PLACE_TIMEOUT_MS = 30_000;
const SERVER_FLAGS_ENV = 'ANTEROOM_BENCH_SERVER_FLAGS';
/**
 * A directory: each server writes a CPU profile of each phase there (`<server>-<phase>.cpuprofile`) with the
 * windows its event loop was held (`<server>-<phase>.lateticks.json`; read them with bench/profile-blocks.ts),
 * and a heap snapshot once everyone is placed (`<server>.heapsnapshot`).
 */
const PROFILE_ENV = 'ANTEROOM_BENCH_PROFILE_DIR';

type ServerRole = 'raw' | 'plain' | 'anteroom';
type Role = ServerRole | 'clients';

const benchFile = fileURLToPath(import.meta.url);
const repoRoot = dirname(dirname(benchFile));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function spawnBenchRole(role: Role, niceness = 0): RoleProcess {
  const nodeFlags = role === 'clients' ? [] : (process.env[SERVER_FLAGS_ENV] ?? '').split(' ').filter((flag) => flag !== '');
  return spawnRole(benchFile, role, { nodeFlags, niceness });
}

// ---- server side: the probes every server child carries ----

interface Memory {
  rss: number;
  /** heapUsed + external, bytes. */
  heap: number;
}

interface Probe {
  /** Longest event-loop block (ms) and GC pause (ms) since the probe was armed. */
  loopMaxMs: number;
  loopP99Ms: number;
  gcMaxMs: number;
  gcCount: number;
}

function serverProbes(counts: () => { queued: number; active: number }): Record<string, (args: any) => unknown> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const profiler = process.env[PROFILE_ENV] ? new Session() : null;
  profiler?.connect();
  let lateTicks: ReturnType<typeof recordLateTicks> | null = null;
  let gcMaxMs = 0;
  let gcCount = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return {
    fdLimit: () => openFileLimit(),
    memory: async (): Promise<Memory> => {
      for (let i = 0; i < 3; i++) {
        (globalThis as { gc?: () => void }).gc!();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const { rss, heapUsed, external } = process.memoryUsage();
      return { rss, heap: heapUsed + external };
    },
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    },
    counts,
    armProbe: () => {
      loop.reset();
      loop.enable();
      gcMaxMs = 0;
      gcCount = 0;
    },
    heapSnapshot: ({ name }: { name: string }) => {
      if (process.env[PROFILE_ENV]) writeHeapSnapshot(`${process.env[PROFILE_ENV]}/${name}.heapsnapshot`);
    },
    profileStart: async () => {
      if (!profiler) return;
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      lateTicks = recordLateTicks();
    },
    profileStop: async ({ name }: { name: string }) => {
      if (!profiler) return;
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(`${process.env[PROFILE_ENV]}/${name}.cpuprofile`, JSON.stringify(profile));
      writeFileSync(`${process.env[PROFILE_ENV]}/${name}.lateticks.json`, JSON.stringify(lateTicks?.stop() ?? []));
    },
    takeProbe: (): Probe => {
      loop.disable();
      // The histogram counts lateness past the 5 ms sampling interval: add it back for the block's length.
      return { loopMaxMs: loop.max / 1e6 + 5, loopP99Ms: loop.percentile(99) / 1e6 + 5, gcMaxMs, gcCount };
    },
  };
}

async function listenHttp(http: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', 1024, resolve));
  const address = http.address();
  return `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function runServer(role: ServerRole): Promise<void> {
  let url: string;
  let counts: () => { queued: number; active: number };
  if (role === 'anteroom') {
    const flags = ['--host', '127.0.0.1', '--port', '0', '--capacity', String(CAPACITY), '--log-level', 'silent'];
    flags.push('--max-connections', '0', '--max-connections-per-ip', '0', '--max-handshakes-per-ip', '0');
    // Clients ping every 2 s; a generous timeout keeps a loaded machine from evicting the seat holders mid-run.
    flags.push('--heartbeat-interval', String(PING_MS), '--heartbeat-timeout', String(HEARTBEAT_TIMEOUT_MS));
    const server = await createAnteroomServer(parseServeArgs(flags, {}), { logger: createLogger('silent', false) });
    url = (await server.listen()).url;
    const runtime = server.rooms.get('main')!.runtime;
    counts = () => ({ queued: runtime.queueLength, active: runtime.activeCount });
  } else if (role === 'plain') {
    const http = createServer();
    const room = servePlainRoom(http, CAPACITY);
    url = await listenHttp(http);
    counts = () => ({ queued: room.queued(), active: room.active() });
  } else {
    // Raw ws: keeps its sockets, sends each a status-sized message, answers pings.
    const http = createServer();
    const wss = new WebSocketServer({ server: http, maxPayload: 65_536, perMessageDeflate: false });
    let placed = 0;
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', () => ws.send(JSON.stringify({ type: 'pong', t: Date.now() })));
      placed++;
      ws.send(JSON.stringify({ type: 'status', status: 'queued', position: placed, queueLength: placed }));
    });
    url = await listenHttp(http);
    counts = () => ({ queued: wss.clients.size, active: 0 });
  }
  serveRequests({ ...serverProbes(counts), url: () => url });
}

// ---- client side ----

class BenchClient {
  readonly ws: WebSocket;
  firstAt = -1;
  position = 0;
  active = false;
  /** After `expectOnePromotion`: the position this waiter should be told next (0: `active`), and when. */
  expected = -1;
  expectedAt: number | null = null;
  private readonly pinger: ReturnType<typeof setInterval>;
  private readonly unplaced: ReturnType<typeof setTimeout>;

  constructor(
    url: string,
    private readonly fleet: ClientFleet,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data) => this.receive(data.toString()));
    this.ws.on('error', () => {});
    // A naive client: a ping every 2 s whatever its state, from a random phase.
    const pinger = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send('{"type":"ping"}');
    }, PING_MS);
    this.pinger = pinger;
    // One never answered (a handshake lost under load) counts as failed rather than stalling the run.
    const unplaced = setTimeout(() => this.ws.terminate(), PLACE_TIMEOUT_MS);
    this.unplaced = unplaced;
    this.ws.on('close', () => {
      clearInterval(pinger);
      clearTimeout(unplaced);
      if (this.firstAt < 0) fleet.placed(this, false);
    });
  }

  private receive(text: string): void {
    const first = this.firstAt < 0;
    if (first) {
      this.firstAt = performance.now();
      clearTimeout(this.unplaced);
    }
    const message = JSON.parse(text) as { type: string; status?: string; position?: number };
    if (message.type === 'status' && message.status === 'queued' && typeof message.position === 'number') {
      if (this.expected > 0 && message.position === this.expected) this.expectedAt ??= epochNow();
      this.position = message.position;
    } else if (message.type === 'status' && message.status === 'active' && !this.active) {
      this.active = true;
      if (this.expected === 0) this.expectedAt ??= epochNow();
      this.fleet.admitted(this);
    }
    if (first) this.fleet.placed(this, true);
  }

  close(graceful: boolean): Promise<void> {
    clearInterval(this.pinger);
    return closeClient(this.ws, graceful);
  }
}

class ClientFleet {
  clients: BenchClient[] = [];
  actives: BenchClient[] = [];
  private onPlaced: PlacedListener | null = null;
  private onAdmitted: ((client: BenchClient) => void) | null = null;

  placed(client: BenchClient, ok: boolean): void {
    this.onPlaced?.(ok, client.firstAt);
  }

  admitted(client: BenchClient): void {
    this.actives.push(client);
    this.onAdmitted?.(client);
  }

  /** Opens `count` connections: `concurrency` at a time, or all of them spread evenly over `spreadMs`. */
  connect({ url, count, concurrency, spreadMs }: { url: string; count: number; concurrency?: number; spreadMs?: number }): Promise<Placement> {
    return placeClients({
      count,
      concurrency: concurrency ?? CONNECT_CONCURRENCY,
      spreadMs,
      timeoutMs: 120_000,
      open: () => this.clients.push(new BenchClient(url, this)),
      listen: (listener) => (this.onPlaced = listener),
    });
  }

  expectOnePromotion(): void {
    for (const client of this.clients) {
      if (client.active || client.ws.readyState !== WebSocket.OPEN) continue;
      client.expected = client.position - 1;
      client.expectedAt = null;
    }
  }

  /** When each waiter got its new position (epoch ms, null: never); the head's `active` apart. */
  shiftReport(): { receivedAt: (number | null)[]; headAt: number | null } {
    const receivedAt: (number | null)[] = [];
    let headAt: number | null = null;
    for (const client of this.clients) {
      if (client.expected === 0) headAt = client.expectedAt;
      else if (client.expected > 0) receivedAt.push(client.expectedAt);
      client.expected = -1;
    }
    return { receivedAt, headAt };
  }

  /** Closes the earliest seat holder `count` times, `gapMs` apart, timing close() → the next head's `active`. */
  async promote({ count, gapMs }: { count: number; gapMs: number }): Promise<{ latencies: number[]; closedAt: number[] }> {
    const latencies: number[] = [];
    const closedAt: number[] = [];
    for (let i = 0; i < count; i++) {
      let leaving = this.actives.shift();
      // A seat holder the server let go of (evicted under load) holds no seat to free.
      while (leaving && leaving.ws.readyState !== WebSocket.OPEN) leaving = this.actives.shift();
      if (!leaving) throw new Error('no seat holder left to close');
      const admitted = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no admission within 10 s of promotion ${i + 1}`)), 10_000);
        this.onAdmitted = () => {
          clearTimeout(timer);
          this.onAdmitted = null;
          resolve();
        };
      });
      closedAt.push(epochNow());
      const start = performance.now();
      void leaving.close(true);
      await admitted;
      latencies.push(performance.now() - start);
      if (gapMs > 0) await sleep(gapMs);
    }
    return { latencies, closedAt };
  }

  /** Closes every connection with 1000 (a deliberate leave, so no place is held for a resume). */
  async closeAll(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close(true)));
    this.clients = [];
    this.actives = [];
  }
}

function runClients(): void {
  const fleet = new ClientFleet();
  serveRequests({
    fdLimit: () => openFileLimit(),
    connect: (args) => fleet.connect(args),
    expectOnePromotion: () => fleet.expectOnePromotion(),
    shiftReport: () => fleet.shiftReport(),
    promote: (args) => fleet.promote(args),
    closeAll: () => fleet.closeAll(),
  });
}

// ---- the run (parent) ----

interface ServerFigures {
  rssPerConn: number;
  heapPerConn: number;
  placeMs: number;
  placeCpuMs: number;
  failed: number;
  counts: { queued: number; active: number };
  promotion: { p50: number; p99: number; max: number } | null;
  promotionProbe: Probe | null;
  /** Seat holder's close → every waiter told its new position, ms; never: waiters that never were. */
  freshness: { allMs: number; headMs: number; never: number } | null;
  storm: { placeMs: number; failed: number; probe: Probe };
}

async function place(server: RoleProcess, url: string, head: RoleProcess, bulk: RoleProcess, n: number) {
  const cpuBefore = await server.call<number>('cpu');
  const first = await head.call<Placement>('connect', { url, count: HEAD_CLIENTS });
  const rest = await bulk.call<Placement>('connect', { url, count: n - HEAD_CLIENTS });
  const cpuAfter = await server.call<number>('cpu');
  // Each process times its own connects (first connect → last first message); the IPC between is not counted.
  return { placeMs: first.placeMs + rest.placeMs, placeCpuMs: cpuAfter - cpuBefore, failed: first.failed + rest.failed };
}

async function freshness(head: RoleProcess, bulk: RoleProcess) {
  await Promise.all([head.call('expectOnePromotion'), bulk.call('expectOnePromotion')]);
  const { closedAt } = await head.call<{ closedAt: number[] }>('promote', { count: 1, gapMs: 0 });
  await sleep(FRESHNESS_WAIT_MS);
  const reports = [await head.call<{ receivedAt: (number | null)[] }>('shiftReport'), await bulk.call<{ receivedAt: (number | null)[] }>('shiftReport')];
  const delays = reports.flatMap((report) => report.receivedAt).map((at) => (at === null ? null : at - closedAt[0]!));
  const seen = delays.filter((delay): delay is number => delay !== null);
  const headSeen = reports[0]!.receivedAt.filter((at): at is number => at !== null).map((at) => at - closedAt[0]!);
  return { allMs: quantile(seen, 1), headMs: quantile(headSeen, 1), never: delays.length - seen.length };
}

async function measureServer(role: ServerRole, head: RoleProcess, bulk: RoleProcess, n: number): Promise<ServerFigures> {
  const server = spawnBenchRole(role);
  console.error(`[crowd] ${role} at ${n}…`);
  try {
    const url = await server.call<string>('url');
    await bulk.call('connect', { url, count: WARMUP_CONNECTIONS });
    await bulk.call('closeAll');
    await sleep(1_000);
    const before = await server.call<Memory>('memory');
    await server.call('profileStart');
    const placed = await place(server, url, head, bulk, n);
    await server.call('profileStop', { name: `${role}-place` });
    const after = await server.call<Memory>('memory');
    await server.call('heapSnapshot', { name: role });
    const counts = await server.call<{ queued: number; active: number }>('counts');
    let promotion: ServerFigures['promotion'] = null;
    let promotionProbe: Probe | null = null;
    let fresh: ServerFigures['freshness'] = null;
    if (role !== 'raw') {
      await sleep(3_000);
      fresh = await freshness(head, bulk);
      await server.call('armProbe');
      await server.call('profileStart');
      const { latencies } = await head.call<{ latencies: number[] }>('promote', { count: PROMOTIONS, gapMs: PROMOTION_GAP_MS });
      promotionProbe = await server.call<Probe>('takeProbe');
      await server.call('profileStop', { name: `${role}-promote` });
      promotion = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) };
    }
    await Promise.all([head.call('closeAll'), bulk.call('closeAll')]);
    await sleep(2_000);
    await server.call('armProbe');
    await server.call('profileStart');
    const storm = await bulk.call<Placement>('connect', { url, count: n, spreadMs: STORM_MS });
    const stormProbe = await server.call<Probe>('takeProbe');
    await server.call('profileStop', { name: `${role}-storm` });
    await bulk.call('closeAll');
    return {
      rssPerConn: (after.rss - before.rss) / n,
      heapPerConn: (after.heap - before.heap) / n,
      ...placed,
      counts,
      promotion,
      promotionProbe,
      freshness: fresh,
      storm: { placeMs: storm.placeMs, failed: storm.failed, probe: stormProbe },
    };
  } finally {
    await server.exit();
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
const ms = (value: number) => (Number.isFinite(value) ? (value < 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(0)} ms`) : 'n/a');
const s = (value: number) => `${(value / 1000).toFixed(2)} s`;
const ratio = (value: number, base: number) => `(${(value / base).toFixed(2)}×)`;

function printTable(n: number, figures: Record<ServerRole, ServerFigures>): void {
  const { raw, plain, anteroom } = figures;
  const row = (label: string, cells: string[]) => console.log(`| ${label} | ${cells.join(' | ')} |`);
  const vsRaw = (pick: (f: ServerFigures) => number, format: (v: number) => string) =>
    [format(pick(raw)), `${format(pick(plain))} ${ratio(pick(plain), pick(raw))}`, `${format(pick(anteroom))} ${ratio(pick(anteroom), pick(raw))}`];
  const noRaw = (format: (f: ServerFigures) => string) => ['—', format(plain), format(anteroom)];
  console.log(`\nN = ${n.toLocaleString('en')} (${anteroom.counts.active} seats, ${anteroom.counts.queued.toLocaleString('en')} queued), Node ${process.version}`);
  row('figure', ['raw `ws`', 'plain waiting room', 'anteroom']);
  row('---', ['---', '---', '---']);
  row('RSS per connection', vsRaw((f) => f.rssPerConn, kib));
  row('heapUsed + external per connection', vsRaw((f) => f.heapPerConn, kib));
  row(`time to place ${n.toLocaleString('en')} arrivals`, vsRaw((f) => f.placeMs, s));
  row('server CPU to place', vsRaw((f) => f.placeCpuMs, s));
  row(`promotion latency p50 / p99 (max), ${PROMOTIONS} promotions ${PROMOTION_GAP_MS} ms apart`, noRaw((f) => `${ms(f.promotion!.p50)} / ${ms(f.promotion!.p99)} (${ms(f.promotion!.max)})`));
  row('all queued positions fresh after one promotion (first 100)', noRaw((f) => `${s(f.freshness!.allMs)} (${s(f.freshness!.headMs)})${f.freshness!.never > 0 ? `, ${f.freshness!.never} never` : ''}`));
  row('longest event-loop block, promotions', noRaw((f) => ms(f.promotionProbe!.loopMaxMs)));
  row(`longest event-loop block, storm of ${n.toLocaleString('en')} in ${STORM_MS / 1000} s`, [raw, plain, anteroom].map((f) => ms(f.storm.probe.loopMaxMs)));
  row('storm: all placed after', [raw, plain, anteroom].map((f) => `${s(f.storm.placeMs)}${f.storm.failed > 0 ? `, ${f.storm.failed} failed` : ''}`));
  row('longest GC pause (promotions / storm)', [raw, plain, anteroom].map((f) => `${f.promotionProbe ? ms(f.promotionProbe.gcMaxMs) : '—'} / ${ms(f.storm.probe.gcMaxMs)}`));
  const failed = [raw, plain, anteroom].map((f) => f.failed);
  if (failed.some((count) => count > 0)) console.log(`connections that failed while placing: raw ${failed[0]}, plain ${failed[1]}, anteroom ${failed[2]}`);
}

function sizesFromArgs(argv: string[]): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--n') sizes.push(Number(argv[++i]));
  return sizes.length > 0 ? sizes : [10_000];
}

/**
 * Runs the three servers at each N, one after another, and prints a table per N. `only`: one server alone,
 * its figures printed as JSON (for profiling runs).
 */
export async function main(
  sizes: number[] = sizesFromArgs(process.argv.slice(2)),
  only = process.argv.includes('--only') ? (process.argv[process.argv.indexOf('--only') + 1] as ServerRole) : undefined,
): Promise<Record<number, Record<ServerRole, ServerFigures>>> {
  const head = spawnBenchRole('clients');
  const bulk = spawnBenchRole('clients', BULK_NICENESS);
  const results: Record<number, Record<ServerRole, ServerFigures>> = {};
  try {
    const limit = await bulk.call<number | null>('fdLimit');
    // The first server measured would otherwise pay for the client processes' own warm-up.
    if (only === undefined) await measureServer('raw', head, bulk, Math.min(5_000, Math.min(...sizes)));
    for (const n of sizes) {
      if (limit !== null && n + 100 > limit) {
        console.log(`N = ${n}: skipped, the clients' open-file limit is ${limit}`);
        continue;
      }
      const figures = {} as Record<ServerRole, ServerFigures>;
      for (const role of ['raw', 'plain', 'anteroom'] as const) {
        if (only === undefined || only === role) figures[role] = await measureServer(role, head, bulk, n);
      }
      if (only === undefined) printTable(n, figures);
      else console.log(JSON.stringify(figures, null, 1));
      results[n] = figures;
    }
  } finally {
    await Promise.all([head.exit(), bulk.exit()]);
  }
  return results;
}

const role = process.env[ROLE_ENV] as Role | undefined;
if (role === 'clients') runClients();
else if (role !== undefined) await runServer(role);
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
