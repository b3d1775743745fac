import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriorityLine } from '../../../machines/queue/priority-line.js';

describe('PriorityLine', () => {
  it('serves higher priorities first and FIFO within a priority; rank counts every higher place', () => {
    const line = new PriorityLine<string>();
    const a = line.enqueue('a');
    const b = line.enqueue('b', 2);
    const c = line.enqueue('c');
    const d = line.enqueue('d', 2);
    const e = line.enqueue('e', 1);
    expect([...line.entries()].map(([, v]) => v)).toEqual(['b', 'd', 'e', 'a', 'c']);
    expect([b, d, e, a, c].map((t) => line.rank(t))).toEqual([1, 2, 3, 4, 5]);
    expect(line.placesAheadOfArrival(1)).toBe(3);
    expect(line.placesAheadOfArrival(3)).toBe(0);
    expect(line.priorityOf(e)).toBe(1);
  });

  it('a held place keeps its rank and is passed over by nthLive', () => {
    const line = new PriorityLine<string>();
    const a = line.enqueue('a', 1);
    const b = line.enqueue('b');
    line.setLive(a, false);
    expect(line.rank(a)).toBe(1);
    expect(line.nthLive(1)).toBe(b);
    expect(line.liveCount).toBe(1);
    expect(line.size).toBe(2);
    expect(line.remove(a)).toBe(true);
    expect(line.rank(b)).toBe(1);
    expect(line.rank(a)).toBe(0);
  });

  it('refuses a priority that is not a whole number >= 0', () => {
    expect(() => new PriorityLine<string>().enqueue('x', -1)).toThrow(RangeError);
    expect(() => new PriorityLine<string>().enqueue('x', 1.5)).toThrow(RangeError);
  });

  it('agrees with a sorted array on every rank, nthLive and order under random commands', () => {
    type Command = { op: 'add'; priority: number } | { op: 'remove'; at: number } | { op: 'hold'; at: number; live: boolean };
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), priority: fc.nat({ max: 4 }) }),
      fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('hold' as const), at: fc.nat(), live: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(command, { size: 'max', maxLength: 200 }), (commands) => {
        const line = new PriorityLine<number>();
        const model: { ticket: number; priority: number; seq: number; live: boolean }[] = [];
        let seq = 0;
        for (const c of commands) {
          if (c.op === 'add') {
            seq++;
            model.push({ ticket: line.enqueue(seq, c.priority), priority: c.priority, seq, live: true });
            model.sort((x, y) => y.priority - x.priority || x.seq - y.seq);
          } else if (model.length > 0) {
            const i = c.at % model.length;
            if (c.op === 'remove') line.remove(model.splice(i, 1)[0]!.ticket);
            else line.setLive(model[i]!.ticket, (model[i]!.live = c.live));
          }
          expect([...line.entries()].map(([, v]) => v)).toEqual(model.map((m) => m.seq));
          model.forEach((m, i) => expect(line.rank(m.ticket)).toBe(i + 1));
          const live = model.filter((m) => m.live);
          live.forEach((m, i) => expect(line.nthLive(i + 1)).toBe(m.ticket));
          expect(line.nthLive(live.length + 1)).toBeUndefined();
        }
      }),
      { numRuns: 150 },
    );
  });
});
