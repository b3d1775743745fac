/**
 * The fan-out of one promotion with 100k queued, without sockets (this machine allows 20k open files, so 100k
 * real connections cannot be opened here; bench/server-10k.bench.ts measures real sends at 10k). A room
 * runtime holds 100k waiters; one seat frees; the position feed then refreshes every waiter, each "send"
 * serialising the status message the server would send. Prints the CPU cost of the computation and
 * serialisation per promotion, how long until the first 1,000 and every place were refreshed against the
 * protocol's budgets (1 s and 5 s), and the longest slice the refresh held the event loop for.
 *
 *   npx tsx bench/fanout-100k.bench.ts
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { defaultRoomSettings } from '../src/config/server-config.js';
import { wallClock } from '../src/log/actor-clocks.js';
import { EventLog } from '../src/log/event-log.js';
import { RoomRuntime, silentConnectionEffects } from '../src/rooms/room-runtime.js';
import { PositionFeed, defaultPositionFeedTiming } from '../src/server/position-feed.js';

const QUEUED = 100_000;
/** A socket write costs about 13 µs on this kind of machine (design.md); added to the CPU figure as an estimate. */
const SEND_US = 13;

export interface FanoutReport {
  queued: number;
  sends: number;
  cpuMs: number;
  headRefreshedMs: number;
  allRefreshedMs: number;
  maxLoopDelayMs: number;
}

export async function main(): Promise<FanoutReport> {
  const runtime = new RoomRuntime({
    settings: { name: 'main', ...defaultRoomSettings, capacity: 1, queuePingMs: 3_600_000 },
    log: new EventLog({ ringSize: 1024 }),
    clockFor: () => wallClock,
    effects: silentConnectionEffects,
  });
  const setupStarted = performance.now();
  runtime.connect('seat', 'seat');
  for (let i = 0; i < QUEUED; i++) runtime.connect(`c${i}`, `s${i}`);
  console.log(`placed ${QUEUED.toLocaleString()} waiters in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);

  const shown = new Map<string, number>();
  for (const [conn, position] of runtime.waitersInOrder()) shown.set(conn, position);
  let refreshed = 0;
  let headRefreshedAt = 0;
  let allRefreshedAt = 0;
  let sends = 0;
  const feed = new PositionFeed(runtime, (conn, position) => {
    if (shown.get(conn) === position) return 'unchanged';
    shown.set(conn, position);
    // What the server serialises per send.
    JSON.stringify({ type: 'status', status: 'queued', position, queueLength: QUEUED - 1, session: conn, resumeToken: conn, etaMs: null });
    sends++;
    refreshed++;
    if (position <= 1000 && refreshed === 1000) headRefreshedAt = performance.now();
    // The head was promoted; everyone else moved up one place.
    if (refreshed === QUEUED - 1) allRefreshedAt = performance.now();
    return 'sent';
  });

  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const freedAt = performance.now();
  runtime.message('seat', { type: 'leave' });
  feed.markDirty();
  while (allRefreshedAt === 0 && performance.now() - freedAt < 20_000) await new Promise((r) => setTimeout(r, 10));
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  feed.stop();
  runtime.stop();

  const report: FanoutReport = {
    queued: QUEUED,
    sends,
    cpuMs: (cpu.user + cpu.system) / 1000,
    headRefreshedMs: headRefreshedAt - freedAt,
    allRefreshedMs: allRefreshedAt - freedAt,
    maxLoopDelayMs: delay.max / 1e6,
  };
  const estimateMs = report.cpuMs + (sends * SEND_US) / 1000;
  console.log(`one promotion with ${QUEUED.toLocaleString()} queued (timing: ${JSON.stringify(defaultPositionFeedTiming)})`);
  console.log(`  position updates            ${sends.toLocaleString()}`);
  console.log(`  CPU, compute + serialise    ${report.cpuMs.toFixed(0)} ms (${((report.cpuMs * 1000) / sends).toFixed(2)} µs per update)`);
  console.log(`  with socket writes at ${SEND_US} µs  ~${estimateMs.toFixed(0)} ms of CPU per promotion (estimate)`);
  console.log(`  first 1,000 refreshed after ${report.headRefreshedMs.toFixed(0)} ms (budget 1000 ms)`);
  console.log(`  all refreshed after         ${report.allRefreshedMs.toFixed(0)} ms (budget 5000 ms; add ~${((sends * SEND_US) / 1000).toFixed(0)} ms of writes)`);
  console.log(`  longest event-loop delay    ${report.maxLoopDelayMs.toFixed(1)} ms`);
  return report;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
