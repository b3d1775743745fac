import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAdmissionState, type AdmissionState } from '../../machines/admission/admission-state.js';
import { restoreAdmission } from '../../machines/admission/admission-snapshot.js';
import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import { evolve } from '../../machines/admission/evolve.js';
import { CommandForwarder } from '../../src/cluster/command-forwarder.js';
import { AppliedCommands, type LogEntry } from '../../src/cluster/log-entry.js';
import { RoomOwner } from '../../src/cluster/room-owner.js';
import { parseServeArgs } from '../../src/config/server-config.js';

const settings = { ...parseServeArgs([], {}).rooms[0]!, capacity: 2 };

/** What the stream does with one append: stores it and acks, refuses it, or stores it and the ack is lost. */
type AppendOutcome = 'ok' | 'refused' | 'ackLost';

/** The room as the stream's entries fold, and the command ids they carry. */
function fold(entries: LogEntry[]): { state: AdmissionState; applied: AppliedCommands; seatsAtEveryStep: number[] } {
  const state = entries[0]?.opened ? restoreAdmission(entries[0].opened) : createAdmissionState(settings);
  const applied = new AppliedCommands();
  const seatsAtEveryStep: number[] = [];
  for (const step of entries.flatMap((entry) => entry.steps)) {
    for (const decision of step.decisions) {
      evolve(state, decision);
      seatsAtEveryStep.push(state.seats.size);
    }
    if (step.id !== null) applied.add(step.id);
  }
  return { state, applied, seatsAtEveryStep };
}

/**
 * Two nodes forward joins and leaves while the stream refuses appends or loses their acks at random; every
 * failure deposes the owner and a new one starts from the stream, as after a failover. Whatever happens, each
 * command is in the stream exactly once and no more than `capacity` are ever seated.
 */
async function run(outcomes: AppendOutcome[], plans: AdmissionCommand[][]): Promise<void> {
  const entries: LogEntry[] = [];
  let appends = 0;
  const append = async (entry: LogEntry, expected: number) => {
    const outcome = outcomes[appends++ % outcomes.length]!;
    // A stored entry must round-trip through JSON, as it does through NATS.
    if (expected !== entries.length) throw new Error('wrong last sequence');
    if (outcome === 'refused') throw new Error('timeout');
    entries.push(JSON.parse(JSON.stringify(entry)) as LogEntry);
    if (outcome === 'ackLost') throw new Error('timeout');
    return entries.length;
  };
  let owner: RoomOwner | null = null;
  const currentOwner = () => {
    if (owner?.active) return owner;
    const { state, applied } = fold(entries);
    owner = new RoomOwner({ settings, nodeId: 'owner', state, lastSeq: entries.length, applied, append, onDeposed: () => {}, now: () => 1000 });
    return owner;
  };
  const forwarders = plans.map((_, node) => new CommandForwarder(`node${node}.boot`, (batch) => currentOwner().apply(batch), () => {}, 1));
  plans.forEach((plan, node) => plan.forEach((command) => forwarders[node]!.forward(command)));
  const drained = Promise.all(forwarders.map((forwarder) => forwarder.drained()));
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the forwarders never drained')), 3000)));
  try {
    await Promise.race([drained, stuck]);
  } finally {
    clearTimeout(timer);
    for (const forwarder of forwarders) forwarder.stop();
  }
  (owner as RoomOwner | null)?.stop();

  const ids = entries.flatMap((entry) => entry.steps.map((step) => step.id)).filter((id) => id !== null);
  const expected = plans.flatMap((plan, node) => plan.map((_, i) => `node${node}.boot#${i + 1}`));
  expect(ids.sort()).toEqual(expected.sort());
  const { seatsAtEveryStep, state } = fold(entries);
  expect(Math.max(0, ...seatsAtEveryStep)).toBeLessThanOrEqual(settings.capacity);
  // Each node's commands were carried out in the order it sent them.
  for (const [node] of plans.entries()) {
    const mine = entries.flatMap((entry) => entry.steps.map((step) => step.id)).filter((id) => id?.startsWith(`node${node}.`));
    expect(mine).toEqual(mine.slice().sort((a, b) => Number(a!.split('#')[1]) - Number(b!.split('#')[1])));
  }
  expect(state.seats.size).toBeLessThanOrEqual(settings.capacity);
}

const plan = (node: number) =>
  fc.array(fc.tuple(fc.nat(5), fc.boolean()), { maxLength: 12 }).map((steps) =>
    steps.map(([n, leave]): AdmissionCommand => (leave ? { type: 'leave', conn: `c${node}-${n}` } : { type: 'join', conn: `c${node}-${n}`, session: `s${node}-${n}` })),
  );

describe('commands forwarded to a room owner that fails', () => {
  it('are each applied exactly once, in each node\'s order, and never seat more than capacity', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<AppendOutcome>('ok', 'ok', 'refused', 'ackLost'), { minLength: 1, maxLength: 8 }), plan(0), plan(1), (outcomes, a, b) =>
        run(outcomes.includes('ok') ? outcomes : [...outcomes, 'ok'], [a, b]),
      ),
      { numRuns: 150 },
    );
  }, 20_000);
});
