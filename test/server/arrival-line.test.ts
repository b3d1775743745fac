import { afterEach, describe, expect, it, vi } from 'vitest';
import { ArrivalLine } from '../../src/server/arrival-line.js';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock that moves only when an arrival says it took time. */
function steppedClock() {
  let now = 0;
  return { now: () => now, spend: (ms: number) => (now += ms) };
}

describe('ArrivalLine', () => {
  it('takes arrivals in order, in a later turn, not in the caller’s', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const taken: number[] = [];
    for (let i = 0; i < 5; i++) line.push(() => taken.push(i));
    expect(taken).toEqual([]);
    expect(line.length).toBe(5);
    await nextTurn();
    expect(taken).toEqual([0, 1, 2, 3, 4]);
    expect(line.length).toBe(0);
  });

  it('yields the loop once a slice has run for sliceMs, and goes on in the next turn', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const events: string[] = [];
    for (let i = 0; i < 10; i++) line.push(() => { events.push(`a${i}`); clock.spend(1); });
    // Queued after the line's first slice: it runs between slices, as a timer or a socket would.
    setImmediate(() => events.push('other'));
    await nextTurn();
    await nextTurn();
    await nextTurn();
    await nextTurn();
    expect(events).toEqual(['a0', 'a1', 'a2', 'a3', 'other', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9']);
  });

  it('always takes one arrival per slice, however long it runs', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const taken: number[] = [];
    for (let i = 0; i < 3; i++) line.push(() => { taken.push(i); clock.spend(50); });
    await nextTurn();
    expect(taken).toEqual([0]);
    await nextTurn();
    await nextTurn();
    expect(taken).toEqual([0, 1, 2]);
  });

  it('reports a returning question that throws, and takes that arrival where it came', async () => {
    const clock = steppedClock();
    const errors: unknown[] = [];
    const line = new ArrivalLine(4, (error) => errors.push(error), clock.now);
    const taken: string[] = [];
    line.push(() => taken.push('a1'));
    line.push(() => taken.push('r'), () => { throw new Error('the room is gone'); });
    line.push(() => taken.push('a2'));
    while (line.length > 0) await nextTurn();
    expect(taken).toEqual(['a1', 'r', 'a2']);
    expect(errors).toHaveLength(1);
  });

  it('reports an arrival that throws and still takes the ones after it', async () => {
    const clock = steppedClock();
    const errors: unknown[] = [];
    const line = new ArrivalLine(4, (error) => errors.push(error), clock.now);
    const taken: number[] = [];
    line.push(() => taken.push(1));
    line.push(() => { throw new Error('boom'); });
    line.push(() => taken.push(3));
    await nextTurn();
    expect(taken).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('keeps order across thousands of arrivals pushed while it drains', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const taken: number[] = [];
    let pushed = 0;
    const pushOne = () => {
      const n = pushed++;
      line.push(() => {
        taken.push(n);
        clock.spend(0.5);
        // Arrivals keep coming while the line drains.
        if (pushed < 5_000) pushOne();
      });
    };
    for (let i = 0; i < 100; i++) pushOne();
    while (line.length > 0) await nextTurn();
    expect(taken).toHaveLength(5_000);
    expect(taken).toEqual([...taken].sort((a, b) => a - b));
  });
  it('takes visitors returning to a held place before the others, in their own order', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const taken: string[] = [];
    const arrive = (name: string, returning = false) =>
      line.push(() => { taken.push(name); clock.spend(1); if (name === 'a1') arrive('r3', true); }, returning ? () => true : undefined);
    arrive('a1');
    arrive('a2');
    arrive('r1', true);
    arrive('a3');
    arrive('r2', true);
    expect(line.length).toBe(5);
    while (line.length > 0) await nextTurn();
    // The lanes take turns; r3 came back while a1 was being taken: it still goes before a2's successor a3.
    expect(taken).toEqual(['r1', 'a1', 'r2', 'a2', 'r3', 'a3']);
  });

  it('takes a returning visitor whose place went while it waited where it came among the others, passing no one', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const taken: string[] = [];
    let held = true;
    const arrive = (name: string, stillReturning?: () => boolean) => line.push(() => taken.push(name), stillReturning);
    arrive('a1');
    arrive('a2');
    arrive('r', () => held);
    arrive('a3');
    // Its place was released (or its seat went live on another tab) after it was pushed: it would get a fresh one.
    held = false;
    expect(line.length).toBe(4);
    while (line.length > 0) await nextTurn();
    expect(taken).toEqual(['a1', 'a2', 'r', 'a3']);
  });

  it('cannot be made to starve new arrivals by a flood of returning ones', async () => {
    const clock = steppedClock();
    const line = new ArrivalLine(4, (error) => { throw error; }, clock.now);
    const taken: string[] = [];
    let flooded = 0;
    // The same valid token presented again and again: each one taken brings two more.
    const flood = (): void =>
      line.push(() => {
        taken.push('r');
        clock.spend(0.1);
        if (flooded < 2_000) for (let i = 0; i < 2; i++, flooded++) flood();
      }, () => true);
    for (let i = 0; i < 10; i++) flood();
    line.push(() => taken.push('new'));
    while (line.length > 0) await nextTurn();
    expect(taken).toHaveLength(2_011);
    // The lanes take turns while both wait: the new arrival waits for the ten that came before it, taken by
    // either lane, and not for the two thousand that came after it.
    expect(taken.indexOf('new')).toBeLessThanOrEqual(2 * 10);
  });
});

describe('arrivals on a live server', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await closeAll();
  });

  it('closes with 1011 an arrival whose acceptance throws, and gives back what it counted; the next one is placed', async () => {
    const live = await startServer(['--capacity', '1', '--max-places-per-ip', '1']);
    const runtime = live.server.rooms.get('main')!.runtime;
    vi.spyOn(runtime, 'connect').mockImplementationOnce(() => {
      throw new Error('the room could not take the connection');
    });
    const broken = await TestClient.open(live.url);
    let code: number | null = null;
    void broken.closed.then((closed) => (code = closed.code));
    await waitFor('the arrival whose acceptance threw to be closed', () => code !== null);
    expect(code).toBe(1011);
    expect(broken.messages).toMatchObject([{ type: 'error', code: 'internal' }]);
    await waitFor('the broken arrival to be counted closed', () => live.server.gate.openCount === 0 && live.server.clients.size === 0);
    // Its place for the address was given back, or this one would be refused with 4009.
    const next = await TestClient.placed(live.url);
    expect(next.lastStatus).toMatchObject({ status: 'active' });
  });
  it('puts a visitor coming back for its seat or place in the returning lane, and no one else', async () => {
    const live = await startServer(['--capacity', '1', '--resume-window', '30000']);
    const runtime = live.server.rooms.get('main')!.runtime;
    await TestClient.placed(live.url);
    const leaving = await TestClient.placed(live.url);
    const { resumeToken } = leaving.lastStatus!;
    const pushed = vi.spyOn(ArrivalLine.prototype, 'push');
    const lanes = () => pushed.mock.calls.map(([, returning]) => returning !== undefined);

    leaving.ws.terminate();
    await waitFor('the dropped place to be held', () => runtime.heldCount === 1);
    const forged = await TestClient.placed(`${live.url}?resume=${encodeURIComponent(resumeToken.slice(0, -2) + 'xx')}`);
    const stranger = await TestClient.placed(live.url);
    const returning = await TestClient.placed(`${live.url}?resume=${encodeURIComponent(resumeToken)}`);
    expect(returning.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    expect(lanes()).toEqual([false, false, true]);
    // A second tab with the token takes the same place over: it passes nobody either.
    await TestClient.placed(`${live.url}?resume=${encodeURIComponent(resumeToken)}`);
    expect(lanes()).toEqual([false, false, true, true]);
    expect([forged.lastStatus!.position, stranger.lastStatus!.position]).toEqual([2, 3]);
  });

  it('keeps in the arrivals’ lane a token for a live seat, which the room would not give back but answer with a fresh place', async () => {
    const live = await startServer(['--capacity', '1', '--resume-window', '30000']);
    const seated = await TestClient.placed(live.url);
    expect(seated.lastStatus).toMatchObject({ status: 'active' });
    const { resumeToken } = seated.lastStatus!;
    const first = await TestClient.placed(live.url);
    const pushed = vi.spyOn(ArrivalLine.prototype, 'push');
    const lanes = () => pushed.mock.calls.map(([, returning]) => returning !== undefined);
    // Anyone holding a seated visitor's token: refused the resume and given a fresh place, so ahead of the
    // storm it would pass everyone who arrived before it.
    const holder = await TestClient.placed(`${live.url}?resume=${encodeURIComponent(resumeToken)}`);
    expect(holder.messages).toContainEqual(expect.objectContaining({ type: 'error', code: 'bad_resume' }));
    expect([first.lastStatus!.position, holder.lastStatus!.position]).toEqual([1, 2]);
    expect(lanes()).toEqual([false]);
  });
});
