/**
 * Whether the operators' feeds can starve the line. A server with default flags runs in a child process;
 * this process holds 5 seated clients that ping every 2 s and times each pong; a third process, the
 * outsider, loads the feeds from one address for a fixed time:
 *
 *   streams: 2,500 `GET /api/events/stream` plus 100 WebSockets sending junk 10 times a second
 *   pages:   200 parallel loops of `GET /api/events?after=0&limit=10000`
 *
 * It prints, per scenario, the server's worst event-loop lag (from /metrics), the slowest pong a seated
 * client saw, how many seated clients were evicted, and what the outsider's requests were answered.
 * Everything stays on 127.0.0.1 and each scenario stops after SCENARIO_MS. Prints figures only.
 *
 *   npx tsx bench/ops-feeds.bench.ts
 *   ANTEROOM_BENCH_ROOT=/path/to/other/checkout npx tsx bench/ops-feeds.bench.ts   # serve another checkout
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startServerProcess } from './server-process.js';
import { Agent, get, request } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const SEATED = 5;
const PING_EVERY_MS = 2000;
const STREAMS = 2500;
const JUNK_SOCKETS = 100;
const JUNK_PER_SECOND = 10;
const PAGE_LOOPS = 200;
const SCENARIO_MS = 15_000;
const ROLE_ENV = 'ANTEROOM_BENCH_ROLE';
/** The run gives up past this, so it always stops by itself. */
const DEADLINE_MS = 150_000;

const benchFile = fileURLToPath(import.meta.url);
const repoRoot = process.env.ANTEROOM_BENCH_ROOT ?? dirname(dirname(benchFile));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
type Scenario = 'streams' | 'pages';

/** Starts `anteroom` with default flags in `repoRoot`; resolves with its ws:// address. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return startServerProcess(repoRoot, []);
}

async function lagMaxSeconds(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** Seated clients that ping on schedule; records each pong's round trip and every eviction. */
async function seatClients(url: string) {
  const rtts: number[] = [];
  const evictions: string[] = [];
  const sockets = await Promise.all(
    Array.from({ length: SEATED }, () => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(url);
      let sentAt = 0;
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.type === 'status' && message.status === 'active') resolve(ws);
        if (message.type === 'pong') rtts.push(performance.now() - sentAt);
        if (message.type === 'evicted') evictions.push(message.reason);
      });
      const timer = setInterval(() => {
        if (ws.readyState !== ws.OPEN) return clearInterval(timer);
        sentAt = performance.now();
        ws.send('{"type":"ping"}');
      }, PING_EVERY_MS);
    })),
  );
  return { rtts, evictions, close: () => sockets.forEach((ws) => ws.terminate()) };
}

/**
 * Fills the server's event-log ring (10,000 records by default) as a busy hour would: rounds of sockets that
 * each send a burst of junk (one refused-message record each) and leave.
 */
async function fillEventRing(url: string): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const sockets = await Promise.all(
      Array.from({ length: 150 }, () => new Promise<WebSocket>((resolve) => {
        const ws = new WebSocket(url);
        ws.once('open', () => resolve(ws));
      })),
    );
    for (const ws of sockets) for (let i = 0; i < 40; i++) ws.send('junk');
    await sleep(500);
    await Promise.all(sockets.map((ws) => new Promise((resolve) => (ws.once('close', resolve), ws.close()))));
  }
}

/** Runs one outsider scenario in a child process (this file, another role) for SCENARIO_MS. */
function runOutsider(scenario: Scenario, url: string): Promise<Record<string, number>> {
  const child = spawn('/bin/sh', ['-c', 'ulimit -n 20000 2>/dev/null; exec "$0" "$@"', process.execPath, '--import', 'tsx', benchFile, scenario, url], {
    cwd: dirname(dirname(benchFile)),
    env: { ...process.env, [ROLE_ENV]: 'outsider' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`outsider exited with ${code}`))));
  });
}

async function outsider(scenario: Scenario, url: string): Promise<void> {
  const httpUrl = url.replace('ws://', 'http://');
  const answers: Record<string, number> = {};
  const count = (key: string) => (answers[key] = (answers[key] ?? 0) + 1);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const stopAt = Date.now() + SCENARIO_MS;
  const stoppers: (() => void)[] = [];
  if (scenario === 'streams') {
    // The junk senders first, so that they are all connected before the streams crowd the handshakes.
    for (let i = 0; i < JUNK_SOCKETS; i++) {
      const ws = new WebSocket(url);
      ws.on('error', () => count('junk socket error'));
      await new Promise((resolve) => (ws.once('open', resolve), ws.once('error', resolve)));
      const timer = setInterval(() => ws.readyState === ws.OPEN && ws.send('junk'), 1000 / JUNK_PER_SECOND);
      stoppers.push(() => (clearInterval(timer), ws.terminate()));
    }
    for (let i = 0; i < STREAMS; i++) {
      const req = get(`${httpUrl}/api/events/stream`, { agent: false }, (res) => {
        count(`stream ${res.statusCode}`);
        res.resume();
      });
      req.on('error', () => count('stream error'));
      stoppers.push(() => req.destroy());
    }
    await sleep(SCENARIO_MS);
  } else {
    const loop = async () => {
      while (Date.now() < stopAt) {
        await new Promise<void>((resolve) => {
          const req = request(`${httpUrl}/api/events?after=0&limit=10000`, { agent }, (res) => {
            count(`page ${res.statusCode}`);
            res.on('end', resolve).resume();
          });
          req.on('error', () => (count('page error'), resolve()));
          req.end();
        });
      }
    };
    await Promise.all(Array.from({ length: PAGE_LOOPS }, loop));
  }
  for (const stop of stoppers) stop();
  agent.destroy();
  process.stdout.write(JSON.stringify(answers));
  process.exit(0);
}

export async function main(): Promise<void> {
  let server: ChildProcess | null = null;
  const deadline = setTimeout(() => {
    console.error(`ops-feeds: gave up after ${DEADLINE_MS} ms`);
    server?.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  for (const scenario of ['streams', 'pages'] as const) {
    const { child, url } = await startServer();
    server = child;
    const httpUrl = url.replace('ws://', 'http://');
    try {
      const seated = await seatClients(url);
      // Pages and snapshots carry a full ring of records, as in service.
      await fillEventRing(url);
      await sleep(500);
      await lagMaxSeconds(httpUrl);
      const answers = await runOutsider(scenario, url);
      const lag = await lagMaxSeconds(httpUrl);
      const worstPong = Math.max(...seated.rtts);
      console.log(
        `${scenario.padEnd(8)} lag max ${(lag * 1000).toFixed(0)} ms | slowest pong ${worstPong.toFixed(0)} ms | ` +
          `seated evicted ${seated.evictions.length}/${SEATED} | outsider answers ${JSON.stringify(answers)}`,
      );
      seated.close();
    } finally {
      child.kill('SIGKILL');
    }
  }
  clearTimeout(deadline);
}

if (process.env[ROLE_ENV] === 'outsider') {
  await outsider(process.argv[2] as Scenario, process.argv[3]!);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
