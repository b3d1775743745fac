/**
 * What priority lanes cost: joins and a full position fan-out pass with every place at priority 0, beside the
 * same with places spread over 4 priorities (0–3), at 10k and 100k queued. Joins go through `settle` (decide +
 * evolve + promote), as the room actor runs them; the fan-out pass is what the position feed computes per
 * refresh (every live waiter in order with its exact position, plus an O(k + log n) rank per slice of 32), with
 * sends stubbed, since a send costs the same either way. Prints figures only.
 *
 *   npx tsx bench/priority-lanes.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { createAdmissionState, positionOfConn, type AdmissionState } from '../machines/admission/admission-state.js';
import { settle } from '../machines/admission/step.js';

const SIZES = [10_000, 100_000] as const;
const TIMED_JOINS = 20_000;

function filled(size: number, lanes: number): AdmissionState {
  const state = createAdmissionState({ capacity: 0 });
  for (let i = 0; i < size; i++) settle(state, { type: 'join', conn: `c${i}`, session: `s${i}`, priority: i % lanes }, 0);
  return state;
}

/** µs per join with the line standing at `size` (each timed join is followed by an untimed leave of the tail). */
function joinCost(size: number, lanes: number): number {
  const state = filled(size, lanes);
  let spent = 0;
  for (let i = 0; i < TIMED_JOINS; i++) {
    const conn = `t${i}`;
    const started = performance.now();
    settle(state, { type: 'join', conn, session: `ts${i}`, priority: i % lanes }, 0);
    spent += performance.now() - started;
    settle(state, { type: 'leave', conn }, 0);
  }
  return (spent * 1000) / TIMED_JOINS;
}

/** ms for one fan-out pass over the whole line: order, positions, and a rank per slice of 32. */
function fanOutPass(size: number, lanes: number): number {
  const state = filled(size, lanes);
  const best: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    let position = 0;
    let checksum = 0;
    for (const [, waiter] of state.queue.entries()) {
      position++;
      if ((position & 31) === 1 && waiter.conn !== null) checksum += positionOfConn(state, waiter.conn) - position;
    }
    if (checksum !== 0) throw new Error('a rank disagreed with the order');
    best.push(performance.now() - started);
  }
  return Math.min(...best);
}

// Warm the JIT on both shapes first, so the first row measured is not the one that paid for compilation.
for (const lanes of [1, 4]) {
  joinCost(10_000, lanes);
  fanOutPass(10_000, lanes);
}
console.log('| queued | lanes | join µs | fan-out pass ms |');
console.log('|---|---|---|---|');
for (const size of SIZES) {
  for (const lanes of [1, 4]) {
    console.log(`| ${size.toLocaleString('en')} | ${lanes} | ${joinCost(size, lanes).toFixed(2)} | ${fanOutPass(size, lanes).toFixed(1)} |`);
  }
}
