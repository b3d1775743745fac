import { describe, expect, it } from 'vitest';
import { createAdmissionState } from '../../machines/admission/admission-state.js';
import { AppliedCommands, type LogEntry } from '../../src/cluster/log-entry.js';
import { RoomOwner } from '../../src/cluster/room-owner.js';
import { parseServeArgs } from '../../src/config/server-config.js';

const settings = { ...parseServeArgs([], {}).rooms[0]!, capacity: 1 };

describe('a room owner whose lease ran out', () => {
  it('never appends, even when the stream would still take its entry, and says it is deposed', async () => {
    const appended: LogEntry[] = [];
    let valid = true;
    const deposed: unknown[] = [];
    const owner = new RoomOwner({
      settings,
      nodeId: 'n1',
      state: createAdmissionState(settings),
      lastSeq: 0,
      applied: new AppliedCommands(),
      append: async (entry) => appended.push(entry),
      onDeposed: (error) => deposed.push(error),
      leaseValid: () => valid,
      now: () => 1000,
    });
    await owner.apply([{ id: 'n2.a#1', command: { type: 'join', conn: 'n2~a', session: 's1' } }]);
    expect(appended).toHaveLength(1);

    // Paused past the lease: the stream has no newer entry, so only the lease can stop this append.
    valid = false;
    await expect(owner.apply([{ id: 'n2.a#2', command: { type: 'join', conn: 'n2~b', session: 's2' } }])).rejects.toThrow(/lease/);
    expect(appended).toHaveLength(1);
    expect(owner.active).toBe(false);
    expect(deposed).toHaveLength(1);
  });
});
