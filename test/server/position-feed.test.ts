import { afterEach, describe, expect, it } from 'vitest';
import { PositionFeed, type PositionFeedTiming } from '../../src/server/position-feed.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

const timing: PositionFeedTiming = { shortQueue: 10, shortDelayMs: 5, headDelayMs: 20, sweepDelayMs: 60, sliceSize: 7 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const feeds: PositionFeed[] = [];
afterEach(() => feeds.splice(0).forEach((f) => f.stop()));

/** A room with `queued` waiters behind one seat, and a feed recording what each waiter was last sent. */
function roomWithLine(queued: number, answer: (conn: string) => 'sent' | 'deferred' = () => 'sent') {
  const room = createSimulatedRoom({ capacity: 1 });
  for (let i = 0; i <= queued; i++) room.runtime.connect(`c${i}`, `s${i}`);
  const shown = new Map<string, number>();
  const sendLog: [string, number][] = [];
  const feed = new PositionFeed(
    room.runtime,
    (conn, position) => {
      if (shown.get(conn) === position) return 'unchanged';
      const outcome = answer(conn);
      if (outcome === 'sent') {
        shown.set(conn, position);
        sendLog.push([conn, position]);
      }
      return outcome;
    },
    timing,
  );
  feeds.push(feed);
  return { room, feed, shown, sendLog };
}

const expectExact = (room: ReturnType<typeof createSimulatedRoom>, shown: Map<string, number>) => {
  for (const [conn, position] of room.runtime.waitersInOrder()) expect(shown.get(conn), conn).toBe(position);
};

describe('position fan-out', () => {
  it('refreshes a short line in full soon after a change, sending only changed positions', async () => {
    const { room, feed, shown, sendLog } = roomWithLine(6);
    feed.markDirty();
    await sleep(20);
    expectExact(room, shown);
    expect(sendLog).toHaveLength(6);
    room.runtime.message('c0', { type: 'leave' });
    feed.markDirty();
    feed.markDirty();
    await sleep(20);
    expectExact(room, shown);
    // Five waiters moved up one place: five sends, one flush, nobody sent twice.
    expect(sendLog).toHaveLength(11);
  });

  it('refreshes the head of a long line first and everyone after it by a sliced sweep', async () => {
    const { room, feed, shown } = roomWithLine(40);
    feed.markDirty();
    await sleep(35);
    // The first 10 places are fresh; the sweep has not run yet.
    for (const [conn, position] of room.runtime.waitersInOrder(10)) expect(shown.get(conn)).toBe(position);
    expect(shown.size).toBe(10);
    await sleep(80);
    expectExact(room, shown);
  });

  it('keeps positions exact when the line changes between the slices of a sweep', async () => {
    const { room, feed, shown } = roomWithLine(60);
    feed.markDirty();
    // Let the sweep start, then move the line while it is between slices.
    await sleep(62);
    room.runtime.message('c3', { type: 'leave' });
    room.runtime.message('c30', { type: 'leave' });
    feed.markDirty();
    await sleep(250);
    expectExact(room, shown);
  });

  it('retries a slow reader it had to skip, and sends it only the latest position', async () => {
    let slow = true;
    const { room, feed, shown, sendLog } = roomWithLine(30, (conn) => (conn === 'c25' && slow ? 'deferred' : 'sent'));
    feed.markDirty();
    await sleep(120);
    expect(shown.has('c25')).toBe(false);
    room.runtime.message('c1', { type: 'leave' });
    feed.markDirty();
    slow = false;
    await sleep(250);
    expectExact(room, shown);
    expect(sendLog.filter(([conn]) => conn === 'c25')).toEqual([['c25', 24]]);
  });
});
