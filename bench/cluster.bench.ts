/**
 * Cluster mode against one node, same run, same machine (printed, not asserted): placements per second (a
 * crowd arriving at once, spread over the nodes), promotion latency (a seated visitor closes on one node, the
 * head of the line is admitted on another: p50 and p99), and failover time (the owner is SIGKILLed, a seated
 * visitor on a survivor leaves: time until the next admission). Needs `nats-server` on PATH.
 * `npx tsx bench/cluster.bench.ts [crowd]`.
 */
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { join } from 'node:path';
import { Cluster, killChild } from '../test/cluster/support/cluster-harness.js';
import { startServerProcess } from './server-process.js';

type Message = Record<string, any>;

/** A bench client: its latest status and when each state was first seen. */
class Visitor {
  readonly ws: WebSocket;
  status: Message | null = null;
  activeAt = 0;
  placedAt = 0;
  constructor(readonly url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Message;
      if (message.type !== 'status') return;
      this.status = message;
      this.placedAt ||= performance.now();
      if (message.status === 'active') this.activeAt ||= performance.now();
    });
  }
}

async function until(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const percentile = (values: number[], p: number) => values.slice().sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;

async function ownerOf(cluster: Cluster): Promise<string> {
  let owner = '';
  for (let i = 0; i < 200 && !owner; i++) {
    owner = ((await (await fetch(`${cluster.nodes[0]!.httpUrl}/api/rooms/main`)).json()) as { owner?: string }).owner ?? '';
    if (!owner) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return owner;
}

interface Figures {
  placementsPerSecond: number;
  promotionP50: number;
  promotionP99: number;
  failoverMs: number | null;
}

const serverFlags = (capacity: number) => ['--capacity', String(capacity), '--max-connections-per-ip', '0', '--max-handshakes-per-ip', '0', '--heartbeat-timeout', '600000', '--log-level', 'error'];

/** The crowd arrives at once, spread over `urls`; resolves with placements per second once all are placed. */
async function arrive(visitors: Visitor[], urls: string[], crowd: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < crowd; i++) visitors.push(new Visitor(`${urls[i % urls.length]!}/`));
  await until('everyone placed', () => visitors.every((visitor) => visitor.status !== null));
  return crowd / ((Math.max(...visitors.map((v) => v.placedAt)) - started) / 1000);
}

/** A plain single server, no NATS: the baseline. */
async function measureSingle(crowd: number, capacity: number): Promise<Figures> {
  const { child, url } = await startServerProcess(join(import.meta.dirname, '..'), serverFlags(capacity));
  const visitors: Visitor[] = [];
  try {
    const placementsPerSecond = await arrive(visitors, [url], crowd);
    const latencies = await promotions(visitors);
    return { placementsPerSecond, promotionP50: percentile(latencies, 50), promotionP99: percentile(latencies, 99), failoverMs: null };
  } finally {
    for (const visitor of visitors) visitor.ws.terminate();
    await killChild(child, 'SIGKILL');
  }
}

/** 50 promotions: a seated visitor leaves; the time until the head of the line (on any node) is admitted, ms. */
async function promotions(visitors: Visitor[]): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
      const seated = visitors.find((v) => v.status?.status === 'active' && v.ws.readyState === WebSocket.OPEN)!;
      const isHead = (v: Visitor) => v.status?.status === 'queued' && v.status.position === 1;
      // Positions reach the line through the coalesced fan-out: wait until the head has been told it is next.
      await until('a head of the line', () => visitors.some(isHead));
      const head = visitors.find(isHead)!;
      const closedAt = performance.now();
      seated.ws.close(1000);
      await until('the head admitted', () => head.activeAt > 0);
      latencies.push(head.activeAt - closedAt);
  }
  return latencies;
}

async function measure(nodes: number, crowd: number, capacity: number): Promise<Figures> {
  const cluster = await Cluster.start(nodes, [...serverFlags(capacity), '--lease-ttl', '1500']);
  const visitors: Visitor[] = [];
  try {
    const owner = await ownerOf(cluster);
    const placementsPerSecond = await arrive(visitors, cluster.nodes.map((node) => node.url), crowd);
    const latencies = await promotions(visitors);

    let failoverMs: number | null = null;
    if (nodes > 1) {
      const survivors = cluster.nodes.filter((node) => node.id !== owner).map((node) => node.url);
      const onSurvivor = (v: Visitor) => survivors.some((url) => v.url.startsWith(url)) && v.ws.readyState === WebSocket.OPEN;
      const leaver = visitors.find((v) => v.status?.status === 'active' && onSurvivor(v));
      if (!leaver) {
        const active = visitors.filter((v) => v.status?.status === 'active');
        throw new Error(`no seated visitor on a survivor: owner ${owner}, ${active.length} seated, ${active.filter((v) => v.ws.readyState === WebSocket.OPEN).length} open`);
      }
      const waiting = visitors.filter((v) => v.status?.status === 'queued' && onSurvivor(v));
      const killedAt = performance.now();
      await cluster.kill(owner);
      leaver.ws.close(1000);
      await until('the next admission', () => waiting.some((v) => v.activeAt > 0), 20_000);
      failoverMs = Math.min(...waiting.filter((v) => v.activeAt > 0).map((v) => v.activeAt)) - killedAt;
    }
    return { placementsPerSecond, promotionP50: percentile(latencies, 50), promotionP99: percentile(latencies, 99), failoverMs };
  } finally {
    for (const visitor of visitors) visitor.ws.terminate();
    await cluster.stop();
  }
}

export async function main(crowd = Number(process.argv[2] ?? 1000)): Promise<void> {
  const capacity = 100;
  const single = await measureSingle(crowd, capacity);
  const one = await measure(1, crowd, capacity);
  const three = await measure(3, crowd, capacity);
  const row = (name: string, f: Figures) =>
    `| ${name.padEnd(11)} | ${Math.round(f.placementsPerSecond).toString().padStart(13)} | ${f.promotionP50.toFixed(1).padStart(9)} | ${f.promotionP99.toFixed(1).padStart(9)} | ${f.failoverMs === null ? '-'.padStart(11) : f.failoverMs.toFixed(0).padStart(11)} |`;
  console.log(`cluster vs one node: ${crowd} visitors arriving at once, capacity ${capacity}, lease TTL 1500 ms, one NATS on this machine`);
  console.log('| nodes       | placements/s  | promo p50 | promo p99 | failover ms |');
  console.log('|-------------|---------------|-----------|-----------|-------------|');
  console.log(row('1, no NATS', single));
  console.log(row('1', one));
  console.log(row('3', three));
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await main();
