import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TicketQueue, type Ticket } from '../../../machines/queue/ticket-queue.js';

function tickets<T>(queue: TicketQueue<T>): Ticket[] {
  return [...queue.entries()].map(([ticket]) => ticket);
}

describe('TicketQueue', () => {
  it('issues increasing positive tickets and keeps FIFO order', () => {
    const queue = new TicketQueue<string>();
    const a = queue.enqueue('a');
    const b = queue.enqueue('b');
    const c = queue.enqueue('c');
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect([...queue.entries()]).toEqual([
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
    ]);
    expect([a, b, c].map((t) => queue.rank(t))).toEqual([1, 2, 3]);
    expect(queue.size).toBe(3);
    expect(queue.liveCount).toBe(3);
    expect(queue.head()).toBe(a);
    expect(queue.firstLive()).toBe(a);
  });

  it('is empty when new', () => {
    const queue = new TicketQueue<string>();
    expect(queue.size).toBe(0);
    expect(queue.liveCount).toBe(0);
    expect(queue.head()).toBeUndefined();
    expect(queue.firstLive()).toBeUndefined();
    expect(queue.dequeueFirstLive()).toBeUndefined();
    expect([...queue.entries()]).toEqual([]);
  });

  it('removes from the middle and closes the gap in rank', () => {
    const queue = new TicketQueue<string>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((v) => queue.enqueue(v)) as [Ticket, Ticket, Ticket, Ticket];
    expect(queue.remove(b)).toBe(true);
    expect(queue.remove(b)).toBe(false);
    expect(queue.has(b)).toBe(false);
    expect(queue.get(b)).toBeUndefined();
    expect(queue.rank(b)).toBe(0);
    expect([a, c, d].map((t) => queue.rank(t))).toEqual([1, 2, 3]);
    expect(tickets(queue)).toEqual([a, c, d]);
    expect(queue.size).toBe(3);
  });

  it('answers absent for tickets never issued, not integers, or from before the base', () => {
    const queue = new TicketQueue<string>(2);
    const first = queue.enqueue('a');
    for (const ticket of [first + 1, first - 1, 0, -5, first + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(queue.has(ticket)).toBe(false);
      expect(queue.get(ticket)).toBeUndefined();
      expect(queue.rank(ticket)).toBe(0);
      expect(queue.isLive(ticket)).toBe(false);
      expect(queue.remove(ticket)).toBe(false);
      expect(() => queue.set(ticket, 'x')).toThrow(RangeError);
      expect(() => queue.setLive(ticket, false)).toThrow(RangeError);
    }
    expect(queue.size).toBe(1);
  });

  it('counts held places in rank but never returns them from firstLive', () => {
    const queue = new TicketQueue<string>();
    const [a, b, c] = ['a', 'b', 'c'].map((v) => queue.enqueue(v)) as [Ticket, Ticket, Ticket];
    queue.setLive(a, false);
    queue.setLive(b, false);
    expect(queue.isLive(a)).toBe(false);
    expect(queue.liveCount).toBe(1);
    expect(queue.size).toBe(3);
    expect(queue.head()).toBe(a);
    expect(queue.firstLive()).toBe(c);
    expect(queue.rank(c)).toBe(3);

    expect(queue.dequeueFirstLive()).toEqual([c, 'c']);
    expect(queue.firstLive()).toBeUndefined();
    expect(queue.dequeueFirstLive()).toBeUndefined();
    expect(tickets(queue)).toEqual([a, b]);

    queue.setLive(b, true);
    expect(queue.firstLive()).toBe(b);
    expect(queue.rank(b)).toBe(2);
  });

  it('treats setLive to the current state as a no-op', () => {
    const queue = new TicketQueue<string>();
    const a = queue.enqueue('a');
    queue.setLive(a, true);
    expect(queue.liveCount).toBe(1);
    queue.setLive(a, false);
    queue.setLive(a, false);
    expect(queue.liveCount).toBe(0);
    queue.setLive(a, true);
    expect(queue.liveCount).toBe(1);
  });

  it('removing a held entry lowers size but not liveCount', () => {
    const queue = new TicketQueue<string>();
    const a = queue.enqueue('a');
    queue.enqueue('b');
    queue.setLive(a, false);
    queue.remove(a);
    expect(queue.size).toBe(1);
    expect(queue.liveCount).toBe(1);
  });

  it('replaces a value in place', () => {
    const queue = new TicketQueue<{ name: string }>();
    const a = queue.enqueue({ name: 'a' });
    const b = queue.enqueue({ name: 'b' });
    queue.set(a, { name: 'a2' });
    expect(queue.get(a)).toEqual({ name: 'a2' });
    expect(queue.rank(a)).toBe(1);
    expect(queue.rank(b)).toBe(2);
  });

  it('keeps tickets unique across clear and empties completely', () => {
    const queue = new TicketQueue<number>(2);
    const before = Array.from({ length: 20 }, (_, i) => queue.enqueue(i));
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.liveCount).toBe(0);
    expect(queue.head()).toBeUndefined();
    expect([...queue.entries()]).toEqual([]);
    for (const t of before) expect(queue.has(t)).toBe(false);
    const after = queue.enqueue(99);
    expect(before).not.toContain(after);
    expect(after).toBeGreaterThan(Math.max(...before));
    expect(queue.rank(after)).toBe(1);
  });

  it('keeps tickets unique when the queue drains to empty and refills', () => {
    const queue = new TicketQueue<number>(1);
    const seen = new Set<Ticket>();
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 10 }, (_, i) => queue.enqueue(i));
      for (const t of batch) {
        expect(seen.has(t)).toBe(false);
        seen.add(t);
      }
      for (const t of batch) queue.remove(t);
      expect(queue.size).toBe(0);
      for (const t of batch) expect(queue.has(t)).toBe(false);
    }
  });

  it('yields lazily and follows removals and additions made while iterating', () => {
    const queue = new TicketQueue<string>();
    const [a, b, c] = ['a', 'b', 'c'].map((v) => queue.enqueue(v)) as [Ticket, Ticket, Ticket];
    const seen: Ticket[] = [];
    let d: Ticket | undefined;
    for (const [ticket] of queue.entries()) {
      seen.push(ticket);
      if (ticket === a) queue.remove(b);
      if (ticket === c) d = queue.enqueue('d');
    }
    expect(seen).toEqual([a, c, d]);
  });

  it('keeps iterating correctly when the head moves and the store compacts mid-iteration', () => {
    const queue = new TicketQueue<number>(4);
    const all = Array.from({ length: 64 }, (_, i) => queue.enqueue(i));
    const seen: number[] = [];
    for (const [ticket, value] of queue.entries()) {
      seen.push(value);
      // Removing each entry as it is reached moves the head (compactions); removing the next one leaves holes.
      queue.remove(ticket);
      if (value % 2 === 0) queue.remove(all[value + 1]!);
    }
    expect(seen).toEqual(Array.from({ length: 32 }, (_, i) => i * 2));
    expect(queue.size).toBe(0);
  });

  it('stays correct through many growths and compactions, and memory follows the live span', () => {
    const queue = new TicketQueue<number>(2);
    // Model: the tickets in order, with a moving head index; every 7th place held until it reaches the head.
    const line: Ticket[] = [];
    const held = new Set<Ticket>();
    let headIndex = 0;
    const capacities = new Set<number>([queue.capacity]);
    let maxCapacity = 0;

    for (let i = 0; i < 10_000; i++) {
      const t = queue.enqueue(i);
      line.push(t);
      if (i % 7 === 3) {
        queue.setLive(t, false);
        held.add(t);
      }
      if (line.length - headIndex > 40) {
        // Admit the first live entry, then expire a held head so the line moves.
        const first = line.slice(headIndex).find((x) => !held.has(x));
        expect(queue.firstLive()).toBe(first);
        const dequeued = queue.dequeueFirstLive();
        expect(dequeued?.[0]).toBe(first);
        line.splice(line.indexOf(first!, headIndex), 1);
        while (held.has(line[headIndex]!)) {
          held.delete(line[headIndex]!);
          queue.remove(line[headIndex]!);
          headIndex++;
        }
      }
      capacities.add(queue.capacity);
      maxCapacity = Math.max(maxCapacity, queue.capacity);
      const head = queue.head()!;

      const present = line.slice(headIndex);
      const middle = present.length >> 1;
      const actual = [
        queue.size,
        queue.liveCount,
        head,
        queue.rank(present[0]!),
        queue.rank(present[middle]!),
        queue.rank(present[present.length - 1]!),
        queue.firstLive(),
      ];
      const wanted = [
        present.length,
        present.filter((x) => !held.has(x)).length,
        present[0],
        1,
        middle + 1,
        present.length,
        present.find((x) => !held.has(x)),
      ];
      // One expect per step would dominate the run time; compare plainly and let expect report a mismatch.
      if (actual.some((value, k) => value !== wanted[k])) expect({ step: i, actual }).toEqual({ step: i, actual: wanted });
    }
    expect(tickets(queue)).toEqual(line.slice(headIndex));
    expect(capacities.size).toBeGreaterThan(3);
    expect(maxCapacity).toBeLessThanOrEqual(256);
    // Thousands of tickets passed through a store of at most 256 slots: it must have re-based many times.
    expect(queue.head()! - 1).toBeGreaterThan(10 * maxCapacity);
  });

  it('keeps every rank exact while a held head pins a growing span of holes', () => {
    const queue = new TicketQueue<number>(4);
    const pinned = queue.enqueue(-1);
    queue.setLive(pinned, false);
    for (let i = 0; i < 5_000; i++) {
      queue.enqueue(i);
      // Admit everyone else: only the pinned head and the newest survive.
      const admitted = queue.dequeueFirstLive();
      expect(admitted?.[1]).toBe(i);
      expect(queue.size).toBe(1);
    }
    expect(queue.capacity).toBeGreaterThanOrEqual(5_000);
    const last = queue.enqueue(5_000);
    expect(queue.rank(pinned)).toBe(1);
    expect(queue.rank(last)).toBe(2);
    expect(tickets(queue)).toEqual([pinned, last]);

    // Releasing the pin lets the store compact down to the survivors.
    queue.remove(pinned);
    expect(queue.rank(last)).toBe(1);
    expect(queue.head()).toBe(last);
    expect(queue.capacity).toBeLessThan(64);
    const next = queue.enqueue(5_001);
    expect(queue.rank(next)).toBe(2);
    expect(tickets(queue)).toEqual([last, next]);
  });
});

/** The model: the line as a plain array in order, every ticket ever issued, and the removed ones. */
interface LineModel {
  line: { ticket: Ticket; value: number; live: boolean }[];
  issued: Ticket[];
  removed: Ticket[];
}

type QueueCommand = fc.Command<LineModel, TicketQueue<number>>;

/** What the queue says about the model's line, read through every query. */
function observe(model: LineModel, queue: TicketQueue<number>) {
  return {
    size: queue.size,
    liveCount: queue.liveCount,
    entries: [...queue.entries()],
    ranks: model.line.map((e) => queue.rank(e.ticket)),
    live: model.line.map((e) => queue.isLive(e.ticket)),
    values: model.line.map((e) => queue.get(e.ticket)),
    head: queue.head(),
    firstLive: queue.firstLive(),
    // The most recent removals: they must stay absent after growth, compaction and clear.
    removedPresent: model.removed.slice(-16).map((t) => [queue.has(t), queue.rank(t)]),
  };
}

function expected(model: LineModel): ReturnType<typeof observe> {
  return {
    size: model.line.length,
    liveCount: model.line.filter((e) => e.live).length,
    entries: model.line.map((e) => [e.ticket, e.value]),
    ranks: model.line.map((_, i) => i + 1),
    live: model.line.map((e) => e.live),
    values: model.line.map((e) => e.value),
    head: model.line[0]?.ticket,
    firstLive: model.line.find((e) => e.live)?.ticket,
    removedPresent: model.removed.slice(-16).map(() => [false, 0]),
  };
}

function assertSameLine(model: LineModel, queue: TicketQueue<number>): void {
  const actual = observe(model, queue);
  const wanted = expected(model);
  // Compared as JSON first because a deep expect per command dominates the run time; expect gives the diff.
  if (JSON.stringify(actual) !== JSON.stringify(wanted)) expect(actual).toEqual(wanted);
}

class Enqueue implements QueueCommand {
  constructor(readonly value: number) {}
  check = (): boolean => true;
  run(model: LineModel, queue: TicketQueue<number>): void {
    const ticket = queue.enqueue(this.value);
    expect(ticket).toBeGreaterThan(model.issued[model.issued.length - 1] ?? 0);
    model.line.push({ ticket, value: this.value, live: true });
    model.issued.push(ticket);
    assertSameLine(model, queue);
  }
  toString = (): string => `enqueue(${this.value})`;
}

/** Removes a ticket picked from every ticket ever issued, so it may already be gone. */
class RemoveIssued implements QueueCommand {
  constructor(readonly pick: number) {}
  check = (model: Readonly<LineModel>): boolean => model.issued.length > 0;
  run(model: LineModel, queue: TicketQueue<number>): void {
    const ticket = model.issued[this.pick % model.issued.length]!;
    const index = model.line.findIndex((e) => e.ticket === ticket);
    expect(queue.remove(ticket)).toBe(index >= 0);
    if (index >= 0) model.removed.push(...model.line.splice(index, 1).map((e) => e.ticket));
    assertSameLine(model, queue);
  }
  toString = (): string => `removeIssued(#${this.pick})`;
}

/** Removes a present entry, from anywhere in the line; `fromFront` biases towards the head. */
class RemovePresent implements QueueCommand {
  constructor(
    readonly pick: number,
    readonly fromFront: boolean,
  ) {}
  check = (model: Readonly<LineModel>): boolean => model.line.length > 0;
  run(model: LineModel, queue: TicketQueue<number>): void {
    const index = this.fromFront ? 0 : this.pick % model.line.length;
    const [entry] = model.line.splice(index, 1);
    expect(queue.remove(entry!.ticket)).toBe(true);
    model.removed.push(entry!.ticket);
    assertSameLine(model, queue);
  }
  toString = (): string => (this.fromFront ? 'removeHead()' : `removePresent(#${this.pick})`);
}

class SetLive implements QueueCommand {
  constructor(
    readonly pick: number,
    readonly live: boolean,
  ) {}
  check = (model: Readonly<LineModel>): boolean => model.line.length > 0;
  run(model: LineModel, queue: TicketQueue<number>): void {
    const entry = model.line[this.pick % model.line.length]!;
    queue.setLive(entry.ticket, this.live);
    entry.live = this.live;
    assertSameLine(model, queue);
  }
  toString = (): string => `setLive(#${this.pick}, ${this.live})`;
}

class SetValue implements QueueCommand {
  constructor(
    readonly pick: number,
    readonly value: number,
  ) {}
  check = (model: Readonly<LineModel>): boolean => model.line.length > 0;
  run(model: LineModel, queue: TicketQueue<number>): void {
    const entry = model.line[this.pick % model.line.length]!;
    queue.set(entry.ticket, this.value);
    entry.value = this.value;
    assertSameLine(model, queue);
  }
  toString = (): string => `set(#${this.pick}, ${this.value})`;
}

class DequeueFirstLive implements QueueCommand {
  check = (): boolean => true;
  run(model: LineModel, queue: TicketQueue<number>): void {
    const index = model.line.findIndex((e) => e.live);
    const admitted = index < 0 ? undefined : model.line.splice(index, 1)[0];
    expect(queue.dequeueFirstLive()).toEqual(admitted ? [admitted.ticket, admitted.value] : undefined);
    if (admitted) model.removed.push(admitted.ticket);
    assertSameLine(model, queue);
  }
  toString = (): string => 'dequeueFirstLive()';
}

class Clear implements QueueCommand {
  check = (): boolean => true;
  run(model: LineModel, queue: TicketQueue<number>): void {
    queue.clear();
    model.removed.push(...model.line.map((e) => e.ticket));
    model.line = [];
    assertSameLine(model, queue);
  }
  toString = (): string => 'clear()';
}

describe('TicketQueue against an array model', () => {
  it('agrees on size, liveCount, every rank, order and firstLive under random commands', () => {
    const command = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 999 }).map((v) => new Enqueue(v)) },
      { weight: 1, arbitrary: fc.nat().map((p) => new RemoveIssued(p)) },
      { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.boolean()).map(([p, front]) => new RemovePresent(p, front)) },
      { weight: 3, arbitrary: fc.tuple(fc.nat(), fc.boolean()).map(([p, live]) => new SetLive(p, live)) },
      { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 0, max: 999 })).map(([p, v]) => new SetValue(p, v)) },
      { weight: 4, arbitrary: fc.constant(new DequeueFirstLive()) },
      { weight: 1, arbitrary: fc.constant(null).map(() => new Clear()) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.commands([command], { size: 'max', maxCommands: 300 }),
        (initialCapacity, commands) => {
          fc.modelRun(
            () => ({ model: { line: [], issued: [], removed: [] }, real: new TicketQueue<number>(initialCapacity) }),
            commands,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
