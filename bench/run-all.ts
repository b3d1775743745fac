/**
 * Every benchmark in turn, one after another so none shares the machine with another: the admission queue,
 * joins through the room, the position fan-out at 100k queued, the server at 10k queued against a raw ws
 * server, the crowd (10k against a raw ws server and a plain waiting room), position freshness at 1,000
 * queued, the operators' feeds under load, what a data dir costs (appends, recovery, joins), and a live room's
 * delivery to 500 members against a raw ws broadcast. `npm run bench` runs this.
 */
import { main as chatBench } from './chat.bench.js';
import { main as crowdBench } from './crowd.bench.js';
import { main as durableBench } from './durable.bench.js';
import { main as fanout100kBench } from './fanout-100k.bench.js';
import { main as freshness1kBench } from './freshness-1k.bench.js';
import { main as opsFeedsBench } from './ops-feeds.bench.js';
import { main as queueBench } from './queue.bench.js';
import { main as roomJoinsBench } from './room-joins.bench.js';
import { main as server10kBench } from './server-10k.bench.js';

const benches: [name: string, run: () => unknown][] = [
  ['queue', queueBench],
  ['room-joins', roomJoinsBench],
  ['fanout-100k', fanout100kBench],
  ['server-10k', server10kBench],
  ['crowd', () => crowdBench([10_000])],
  ['freshness-1k', freshness1kBench],
  ['ops-feeds', opsFeedsBench],
  ['durable', durableBench],
  ['chat', chatBench],
];

for (const [name, run] of benches) {
  const started = performance.now();
  console.log(`\n== ${name} ==`);
  await run();
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
