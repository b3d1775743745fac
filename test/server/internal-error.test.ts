import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import { defaultRoomSettings, type RoomConfig } from '../../src/config/server-config.js';
import { EventLog } from '../../src/log/event-log.js';
import type { EventRecord } from '../../src/log/event-record.js';
import { replay } from '../../src/log/replay.js';
import { RoomRuntime } from '../../src/rooms/room-runtime.js';
import { AdmissionRate } from '../../src/server/admission-rate.js';
import type { ClientSocket } from '../../src/server/client-socket.js';
import { createSocketEffects } from '../../src/server/socket-effects.js';
import { TokenBucket } from '../../src/server/token-bucket.js';
import { waitFor } from '../support/wait-for.js';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { ChatHistory } from '../../src/store/chat-history.js';
import { createResumeTokens } from '../../src/tokens/resume-tokens.js';
import type { AdmissionTokenIssuer } from '../../src/tokens/admission-tokens.js';

/** A socket that records what it was sent and how it was closed. */
function fakeSocket() {
  return {
    OPEN: 1,
    CONNECTING: 0,
    readyState: 1,
    bufferedAmount: 0,
    sent: [] as Record<string, unknown>[],
    closedWith: null as number | null,
    send(text: string) {
      this.sent.push(JSON.parse(text) as Record<string, unknown>);
    },
    close(code: number) {
      this.closedWith = code;
      this.readyState = 2;
    },
    terminate() {},
    ping() {},
  };
}

describe('an admission token that cannot be signed', () => {
  it('is an internal error: the client hears `internal`, closes with 1011, and the seat goes to the next in line', async () => {
    const settings: RoomConfig = { name: 'main', ...defaultRoomSettings, capacity: 1 };
    const clock = new SimulatedClock();
    const records: EventRecord[] = [];
    const log = new EventLog({ now: () => clock.now() });
    log.on('record', (record) => records.push(record));
    const clients = new Map<string, ClientSocket>();
    let failSigning = true;
    const issuer: AdmissionTokenIssuer = {
      issue: async () => {
        if (failSigning) throw new Error('key unavailable');
        return { token: 'signed', expiresAt: Date.now() + 60_000 };
      },
      jwks: () => ({ keys: [] }),
      verify: async () => {
        throw new Error('not used');
      },
    };
    const resumeTokens = createResumeTokens();
    const effects = createSocketEffects({
      room: settings,
      chat: null,
      clients,
      issuer,
      resumeTokens,
      rate: new AdmissionRate(),
      audience: null,
      outboundBudget: 1 << 20,
      logger: pino({ level: 'silent' }),
      queueChanged: () => {},
      overflowed: () => {},
    });
    const runtime = new RoomRuntime({ settings, log, clockFor: () => clock, now: () => clock.now(), effects });
    const join = (conn: string) => {
      const ws = fakeSocket();
      const client = { conn, ws, room: runtime, ip: '127.0.0.1', session: `s-${conn}`, resumeToken: '', sentPosition: 0, tokenRefresh: null, overflowed: false, bucket: new TokenBucket(20, 40, 0) };
      clients.set(conn, client as unknown as ClientSocket);
      runtime.connect(conn, client.session);
      return ws;
    };

    const first = join('a');
    const second = join('b');
    failSigning = false;
    await waitFor('the seat to pass to b with a signed token', () => second.sent.some((m) => m.status === 'active'));

    expect(first.sent).toContainEqual({ type: 'error', code: 'internal', message: 'could not sign an admission token' });
    expect(first.closedWith).toBe(1011);
    expect(runtime.isActive('a')).toBe(false);
    expect(runtime.isActive('b')).toBe(true);
    expect(second.sent.at(-1)).toMatchObject({ type: 'status', status: 'active', token: 'signed' });
    expect(records.filter((r) => r.kind === 'fault')).toMatchObject([{ conn: 'a', data: { reason: 'internal' } }]);
    expect(replay(JSON.parse(JSON.stringify(records)))).toMatchObject({ ok: true });
    runtime.stop();
  });
});

describe('a connection actor that fails, on a live server', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await closeAll();
  });

  it('tells the client `internal` before closing it with 1011, and the room holds its place for a resume', async () => {
    const live = await startServer(['--capacity', '1']);
    const seated = await TestClient.placed(live.url);
    // The queued status's bookkeeping throws inside the connection actor's action: the actor fails.
    vi.spyOn(live.server.metrics, 'sent').mockImplementationOnce(() => {
      throw new Error('the socket layer broke');
    });
    const broken = await TestClient.open(live.url);
    expect((await broken.closed).code).toBe(1011);
    expect(broken.messages.at(-1)).toMatchObject({ type: 'error', code: 'internal' });
    const runtime = live.server.rooms.get('main')!.runtime;
    await waitFor('the failed connection to be forgotten, its place held', () => runtime.heldCount === 1 && live.server.clients.size === 1);
    await seated.close();
    const next = await TestClient.placed(live.url);
    expect(next.lastStatus).toMatchObject({ status: 'active' });
  });

  it('tells a client whose admission cannot be delivered `internal`, closes it with 1011 and seats the next one', async () => {
    const live = await startServer(['--capacity', '1']);
    // Delivering the seat throws outside any actor (after the token is signed).
    vi.spyOn(live.server.metrics, 'sent').mockImplementationOnce(() => {
      throw new Error('the socket layer broke');
    });
    const broken = await TestClient.open(live.url);
    const waiting = await TestClient.placed(live.url);
    expect((await broken.closed).code).toBe(1011);
    expect(broken.messages.at(-1)).toMatchObject({ type: 'error', code: 'internal' });
    await waiting.until((status) => status.status === 'active');
  });

  it('keeps a member seated whose welcome to a live room fails once its admission is out', async () => {
    const live = await startServer(['--chat', '--capacity', '1', '--heartbeat-interval', '1000', '--heartbeat-timeout', '60000']);
    vi.spyOn(ChatHistory.prototype, 'before').mockImplementationOnce(() => {
      throw new Error('the history could not be read');
    });
    const member = await TestClient.open(live.url);
    await member.until((status) => status.status === 'active');
    // Still seated, still in the room: a second visitor waits in line, and the member's `say` is delivered.
    const waiting = await TestClient.placed(live.url);
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    member.send({ type: 'say', id: 'm1', text: 'still here' });
    await member.next((m) => m.type === 'message' && m.text === 'still here');
    expect(live.server.rooms.get('main')!.runtime.activeCount).toBe(1);
    expect(member.messages.some((m) => m.type === 'history')).toBe(false);
  });
});
