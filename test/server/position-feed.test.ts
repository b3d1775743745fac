import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultPositionFeedTiming, PositionFeed, type PositionFeedTiming } from '../../src/server/position-feed.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

const timing: PositionFeedTiming = { shortQueue: 10, shortDelayMs: 5, headIntervalMs: 20, sweepIntervalMs: 60, sliceMs: 0 };
// The feed's delays and slices run on a simulated clock: each test says exactly when a refresh is due.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
const feeds: PositionFeed[] = [];
afterEach(() => {
  feeds.splice(0).forEach((f) => f.stop());
  vi.useRealTimers();
});

/** A room with `queued` waiters behind one seat, and a feed recording what each waiter was last sent. */
function roomWithLine(queued: number, answer: (conn: string) => 'sent' | 'deferred' = () => 'sent', now?: () => number, feedTiming = timing) {
  const room = createSimulatedRoom({ capacity: 1 });
  for (let i = 0; i <= queued; i++) room.runtime.connect(`c${i}`, `s${i}`);
  const shown = new Map<string, number>();
  const sendLog: [string, number][] = [];
  /** Positions that were not true when sent: the protocol allows none. */
  const untrue: [string, number, number][] = [];
  const feed = new PositionFeed(
    room.runtime,
    (conn, position) => {
      const truth = room.runtime.positionOf(conn);
      if (truth !== position) untrue.push([conn, position, truth]);
      if (shown.get(conn) === position) return 'unchanged';
      const outcome = answer(conn);
      if (outcome === 'sent') {
        shown.set(conn, position);
        sendLog.push([conn, position]);
      }
      return outcome;
    },
    feedTiming,
    now,
  );
  feeds.push(feed);
  return { room, feed, shown, sendLog, untrue };
}

const expectExact = (room: ReturnType<typeof createSimulatedRoom>, shown: Map<string, number>) => {
  for (const [conn, position] of room.runtime.waitersInOrder()) expect(shown.get(conn), conn).toBe(position);
};

describe('position fan-out', () => {
  it('refreshes a short line in full soon after a change, sending only changed positions', async () => {
    const { room, feed, shown, sendLog } = roomWithLine(6);
    feed.markDirty();
    await advance(1);
    expectExact(room, shown);
    expect(sendLog).toHaveLength(6);
    room.runtime.message('c0', { type: 'leave' });
    feed.markDirty();
    feed.markDirty();
    await advance(5);
    expectExact(room, shown);
    // Five waiters moved up one place: five sends, one flush, nobody sent twice.
    expect(sendLog).toHaveLength(11);
  });

  it('refreshes a short line in the turn after a quiet change, then at most once every shortDelayMs', async () => {
    vi.useFakeTimers();
    try {
      const { room, feed, shown, sendLog } = roomWithLine(6, undefined, () => Date.now());
      feed.markDirty();
      await vi.advanceTimersByTimeAsync(1);
      expect(sendLog).toHaveLength(6);
      // A change right after a refresh waits out the interval, and the next ones join it.
      room.runtime.message('c0', { type: 'leave' });
      feed.markDirty();
      await vi.advanceTimersByTimeAsync(1);
      room.runtime.message('c1', { type: 'leave' });
      feed.markDirty();
      expect(sendLog).toHaveLength(6);
      await vi.advanceTimersByTimeAsync(timing.shortDelayMs);
      expectExact(room, shown);
      // Both changes in one pass: the four left in line behind them moved up two places, one send each.
      expect(sendLog).toHaveLength(10);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refreshes a long line in the turn after a quiet change, head first, then at most once per interval', async () => {
    const { room, feed, shown, sendLog } = roomWithLine(40);
    feed.markDirty();
    expect(shown.size).toBe(0);
    await advance(0);
    // The head's first slice goes out before the sweep's.
    expect(sendLog.slice(0, 10).map(([, position]) => position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The sweep runs in slices that yield to the event loop between them, with no delay of their own.
    await advance(1);
    expectExact(room, shown);
    // A change right after: the head waits out headIntervalMs, the sweep sweepIntervalMs.
    room.runtime.message('c0', { type: 'leave' });
    feed.markDirty();
    await advance(18);
    expect(shown.get('c2')).toBe(2);
    await advance(2);
    for (const [conn, position] of room.runtime.waitersInOrder(10)) expect(shown.get(conn)).toBe(position);
    expect(shown.get('c40')).toBe(40);
    await advance(39);
    expect(shown.get('c40')).toBe(40);
    await advance(2);
    expectExact(room, shown);
  });

  it('keeps the short-line bound (100 ms) when a long line becomes short while its head waits out its interval', async () => {
    const { room, feed, shown } = roomWithLine(1002, undefined, undefined, defaultPositionFeedTiming);
    feed.markDirty();
    await advance(50);
    expectExact(room, shown);
    // Still long (1,001): the head's next pass is due headIntervalMs after the last.
    room.runtime.message('c1', { type: 'leave' });
    feed.markDirty();
    await advance(10);
    // Now 1,000 queued: the protocol's 100 ms applies from this change on.
    room.runtime.message('c2', { type: 'leave' });
    feed.markDirty();
    await advance(100);
    expect(room.runtime.queueLength).toBe(1000);
    expectExact(room, shown);
  });

  it('starves no one under constant churn: each place is recomputed within its interval and a pass after a change', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ leave: fc.nat(), arrive: fc.boolean() }), { minLength: 200, maxLength: 400 }), async (churn) => {
        const { room, feed, untrue } = roomWithLine(80);
        // When each waiter's position was last computed (sent or found unchanged), or when it joined.
        const computed = new Map<string, number>();
        const feedSend = (feed as unknown as { sendPosition: (conn: string, position: number) => string }).sendPosition;
        (feed as unknown as { sendPosition: unknown }).sendPosition = (conn: string, position: number) => {
          computed.set(conn, performance.now());
          return feedSend(conn, position);
        };
        for (const [conn] of room.runtime.waitersInOrder()) computed.set(conn, performance.now());
        feed.markDirty();
        const enteredHead = new Map<string, number>();
        let arrivals = 0;
        for (const { leave, arrive } of churn) {
          // A change every millisecond: one leaves the line, or one arrives, or both; the tail stays long.
          const line = [...room.runtime.waitersInOrder()];
          if (line.length > 60 && leave % 2 === 0) room.runtime.message(line[leave % line.length]![0], { type: 'leave' });
          if (arrive || line.length <= 60 || leave % 2 === 1) {
            const conn = `n${arrivals++}`;
            room.runtime.connect(conn, `s-${conn}`);
            computed.set(conn, performance.now());
          }
          feed.markDirty();
          await advance(1);
          const now = performance.now();
          for (const [conn, position] of room.runtime.waitersInOrder()) {
            const inHead = position <= timing.shortQueue;
            // Moved up into the head in the change just made: the head's interval counts from there.
            if (inHead && !enteredHead.has(conn)) enteredHead.set(conn, now - 1);
            const since = Math.max(computed.get(conn)!, inHead ? enteredHead.get(conn)! : -Infinity);
            // An interval between passes, and the millisecond a pass may take in its slices.
            expect(now - since, `${conn} at ${position}`).toBeLessThanOrEqual((inHead ? timing.headIntervalMs : timing.sweepIntervalMs) + 2);
          }
        }
        expect(untrue).toEqual([]);
        feed.stop();
      }),
      { numRuns: 15 },
    );
  });

  it('keeps positions exact when the line changes between the slices of a sweep', async () => {
    // sliceMs 0: a slice yields after every 32 sends, so 100 waiters take several slices.
    let moved = false;
    const { room, feed, shown, untrue } = roomWithLine(100, (conn) => {
      if (conn === 'c40' && !moved) {
        moved = true;
        // Runs between this slice and the next, as a socket event would.
        setImmediate(() => {
          room.runtime.message('c3', { type: 'leave' });
          room.runtime.message('c60', { type: 'leave' });
          feed.markDirty();
        });
      }
      return 'sent';
    });
    feed.markDirty();
    await advance(300);
    expect(moved).toBe(true);
    expect(untrue).toEqual([]);
    expectExact(room, shown);
  });

  it('retries a slow reader it had to skip, and sends it only the latest position', async () => {
    let slow = true;
    const { room, feed, shown, sendLog } = roomWithLine(30, (conn) => (conn === 'c25' && slow ? 'deferred' : 'sent'));
    feed.markDirty();
    await advance(120);
    expect(shown.has('c25')).toBe(false);
    room.runtime.message('c1', { type: 'leave' });
    feed.markDirty();
    slow = false;
    await advance(250);
    expectExact(room, shown);
    expect(sendLog.filter(([conn]) => conn === 'c25')).toEqual([['c25', 24]]);
  });
});
