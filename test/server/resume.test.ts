import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

let live: LiveServer | undefined;

afterEach(closeAll);

async function line(count: number, flags: string[] = []): Promise<TestClient[]> {
  live = await startServer(['--capacity', '1', ...flags]);
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await TestClient.open(live.url);
    await client.next((m) => m.type === 'status');
    clients.push(client);
  }
  return clients;
}

async function resumeWith(token: string): Promise<TestClient> {
  const client = new TestClient(live!.url);
  await client.opened;
  client.send({ type: 'resume', token });
  return client;
}

const room = () => getJson(`${live!.httpUrl}/api/rooms/main`);

/** Waits until the room's view has these values (the server handles a socket's end on its own turn). */
async function roomBecomes(expected: Record<string, number>): Promise<void> {
  await waitFor(`room ${JSON.stringify(expected)}`, async () => {
    const view = await room();
    return Object.entries(expected).every(([key, value]) => view[key] === value);
  });
}

describe('resume', () => {
  for (const [how, end] of [
    ['an abnormal drop (1006)', (c: TestClient) => c.terminate()],
    ['a reload (1001)', (c: TestClient) => void c.close(1001)],
  ] as const) {
    it(`keeps a waiter's place after ${how}`, async () => {
      const [, , middle, last] = await line(4);
      const { session, resumeToken, position } = middle!.lastStatus!;
      expect(position).toBe(2);
      end(middle!);
      await middle!.closed;
      await roomBecomes({ queued: 3, held: 1 });
      // The places behind a held one do not move.
      expect(last!.lastStatus!.position).toBe(3);
      const back = await resumeWith(resumeToken);
      const status = await back.until((s) => s.session === session);
      expect(status).toMatchObject({ status: 'queued', position: 2, queueLength: 3 });
      expect(await room()).toMatchObject({ queued: 3, held: 0 });
    });
  }

  for (const [how, code] of [
    ['a normal close (1000)', 1000],
    ['a close without status (1005)', undefined],
  ] as const) {
    it(`releases the place at once after ${how}`, async () => {
      const [, , middle, last] = await line(4);
      const { resumeToken } = middle!.lastStatus!;
      await middle!.close(code);
      await last!.until((s) => s.position === 2, 1000);
      const back = await resumeWith(resumeToken);
      expect((await back.next((m) => m.type === 'error')).code).toBe('bad_resume');
      // The newcomer keeps its fresh place at the tail.
      expect(back.lastStatus).toMatchObject({ status: 'queued', position: 3 });
    });
  }

  it('never admits a held place: the next live waiter gets the seat, and the resumed one keeps its turn', async () => {
    const [seated, held, next] = await line(3);
    const { resumeToken, session } = held!.lastStatus!;
    held!.terminate();
    await held!.closed;
    await roomBecomes({ held: 1 });
    await seated!.close();
    await next!.until((s) => s.status === 'active', 1000);
    const back = await resumeWith(resumeToken);
    await back.until((s) => s.session === session && s.position === 1);
    next!.send({ type: 'leave' });
    await back.until((s) => s.status === 'active', 1000);
  });

  it('forgets a held place after the resume window', async () => {
    const [, middle] = await line(3, ['--resume-window', '200']);
    const { resumeToken } = middle!.lastStatus!;
    middle!.terminate();
    await roomBecomes({ held: 1 });
    await roomBecomes({ queued: 1, held: 0 });
    const back = await resumeWith(resumeToken);
    expect((await back.next((m) => m.type === 'error')).code).toBe('bad_resume');
  });

  it('refuses a forged token without moving anyone', async () => {
    const [, first] = await line(2);
    const { resumeToken } = first!.lastStatus!;
    const forged = resumeToken.slice(0, -2) + (resumeToken.endsWith('AA') ? 'BB' : 'AA');
    const back = await resumeWith(forged);
    expect((await back.next((m) => m.type === 'error')).code).toBe('bad_resume');
    expect(first!.lastStatus!.position).toBe(1);
    expect(back.lastStatus).toMatchObject({ position: 2 });
  });

  it('releases an active seat at once on disconnect; it is not held', async () => {
    const [seated, waiter] = await line(2);
    seated!.terminate();
    await waiter!.until((s) => s.status === 'active', 1000);
    expect(await room()).toMatchObject({ active: 1, queued: 0, held: 0 });
  });

  it('a second tab resuming a live place replaces the first with 4005', async () => {
    const [, first] = await line(2);
    const { resumeToken, session } = first!.lastStatus!;
    const second = await resumeWith(resumeToken);
    await second.until((s) => s.session === session && s.position === 1);
    expect((await first!.next((m) => m.type === 'evicted')).reason).toBe('replaced');
    expect((await first!.closed).code).toBe(4005);
    expect(await room()).toMatchObject({ queued: 1 });
  });
});

describe('resume into a full line', () => {
  /** `--capacity 1 --max-queue 1`: A seated, B the one place in line, then B's socket dies without a close frame. */
  async function fullLineWithHeldPlace() {
    const [seated, waiter] = await line(2, ['--max-queue', '1']);
    const held = waiter!.lastStatus!;
    waiter!.terminate();
    await waiter!.closed;
    await roomBecomes({ active: 1, queued: 1, held: 1 });
    return { seated: seated!, held };
  }

  it('takes the held place back when the resume token comes in the upgrade URL', async () => {
    const { held } = await fullLineWithHeldPlace();
    const back = await TestClient.open(`${live!.url}?resume=${encodeURIComponent(held.resumeToken)}`);
    const status = await back.next((m) => m.type === 'status');
    // Placed straight into its own place: no fresh place first, and no 4003.
    expect(status).toMatchObject({ status: 'queued', session: held.session, position: 1, queueLength: 1 });
    expect(await room()).toMatchObject({ queued: 1, held: 0 });
  });

  it('gives a client that sends resume as its first message the moment it needs, instead of 4003', async () => {
    const { held } = await fullLineWithHeldPlace();
    const back = await resumeWith(held.resumeToken);
    const status = await back.until((s) => s.session === held.session);
    expect(status).toMatchObject({ status: 'queued', position: 1, queueLength: 1 });
    expect(back.ws.readyState).toBe(back.ws.OPEN);
  });

  it('still turns away a newcomer to a full line with 4003 once the moment has passed', async () => {
    await fullLineWithHeldPlace();
    const newcomer = await TestClient.open(live!.url);
    expect((await newcomer.closed).code).toBe(4003);
    expect(newcomer.messages.some((m) => m.type === 'status')).toBe(false);
  });

  it('answers an upgrade-URL token that is not valid (forged, empty, over-long) with bad_resume and a fresh place', async () => {
    live = await startServer(['--capacity', '1']);
    await TestClient.placed(live.url);
    for (const [position, token] of [[1, 'not-a-token'], [2, ''], [3, 'x'.repeat(2000)]] as const) {
      const forged = await TestClient.open(`${live.url}?resume=${token}`);
      expect(await forged.next((m) => m.type === 'status')).toMatchObject({ status: 'queued', position });
      expect(await forged.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_resume' });
    }
  });

  it('tells a client whose URL token is not valid why, before a full line closes it with 4003', async () => {
    await fullLineWithHeldPlace();
    const forged = await TestClient.open(`${live!.url}?resume=not-a-token`);
    expect(await forged.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_resume' });
    expect((await forged.closed).code).toBe(4003);
  });
});
