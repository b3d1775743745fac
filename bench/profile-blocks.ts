/**
 * What held the event loop: for the longest late ticks a crowd-bench phase recorded (`<name>.lateticks.json`,
 * written beside `<name>.cpuprofile` when ANTEROOM_BENCH_PROFILE_DIR is set), the stacks the CPU profile
 * sampled in each window, most frequent first. `(garbage collector)` is GC; `(idle)` inside a late window
 * means the process was waiting for a core, not running.
 *
 *   npx tsx bench/profile-blocks.ts /tmp/prof/anteroom-promote [--top 8]
 */
import { readFileSync } from 'node:fs';
import type { LateTick } from './late-ticks.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
}

/** Each sample as its time (µs) and its stack, outermost first. */
function samplesOf(profile: CpuProfile): { at: number; stack: ProfileNode[] }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  let at = profile.startTime;
  return profile.samples.map((id, i) => {
    at += profile.timeDeltas[i]!;
    const stack: ProfileNode[] = [];
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) stack.unshift(byId.get(node)!);
    return { at, stack };
  });
}

/** The stacks sampled in one window, as "entry frames || leaf frame", with their counts. */
function stacksIn(samples: { at: number; stack: ProfileNode[] }[], [fromUs, toUs]: LateTick): [string, number][] {
  const counts = new Map<string, number>();
  for (const { at, stack } of samples) {
    if (at < fromUs || at > toUs) continue;
    const key = `${stack.slice(1, 4).map(frameName).join(' > ')} || ${frameName(stack[stack.length - 1]!)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

export function main(base: string, top = 8): void {
  const profile = JSON.parse(readFileSync(`${base}.cpuprofile`, 'utf8')) as CpuProfile;
  const late = JSON.parse(readFileSync(`${base}.lateticks.json`, 'utf8')) as LateTick[];
  const samples = samplesOf(profile);
  console.log(`${late.length} late ticks in ${base}; the ${Math.min(top, late.length)} longest:`);
  for (const window of [...late].sort((a, b) => b[2] - a[2]).slice(0, top)) {
    const stacks = stacksIn(samples, window);
    const total = stacks.reduce((sum, [, count]) => sum + count, 0);
    console.log(`\nlate ${window[2].toFixed(1)} ms, ${total} samples`);
    for (const [stack, count] of stacks.slice(0, 5)) console.log(`  ${String(count).padStart(4)}  ${stack}`);
  }
}

const args = process.argv.slice(2);
if (args[0] !== undefined) main(args[0], args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 8);
