import { afterEach, describe, expect, it, vi } from 'vitest';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '../../src/protocol/codes.js';
import type { ActiveStatus, QueuedStatus } from '../../src/protocol/messages.js';
import { createNodeClient } from '../../src/client/node.js';
import {
  MemoryResumeStore,
  WaitingRoomClient,
  WebStorageResumeStore,
  resumeStorageKey,
} from '../../src/client/index.js';
import { withResumeToken } from '../../src/client/waiting-room-client.js';
import type {
  ClientState,
  ResumeStorage,
  WaitingRoomClientEvents,
  WaitingRoomClientOptions,
} from '../../src/client/index.js';

const WAIT_MS = 5000;

/** Resolves once `condition` holds, re-checking whenever `subscribe` signals a change. */
function waitUntil(condition: () => boolean, subscribe: (wake: () => void) => () => void, what: string) {
  return new Promise<void>((resolve, reject) => {
    if (condition()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    const unsubscribe = subscribe(() => {
      if (!condition()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

/** Lets the event loop run for `ms`: the window in which something that must not happen would happen. */
const quietPeriod = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server side of one connection: what it received, and how to script replies. */
class ScriptedConnection {
  readonly received: Array<{ message: unknown; at: number }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #listeners = new Set<() => void>();

  /** The resume token the client presented in its upgrade URL (`?resume=`), or null. */
  readonly resumeToken: string | null;

  constructor(
    readonly socket: WebSocket,
    url: string | undefined,
  ) {
    this.resumeToken = new URL(url ?? '/', 'ws://localhost').searchParams.get('resume');
    socket.on('message', (data, isBinary) => {
      this.received.push({ message: isBinary ? data : JSON.parse(String(data)), at: performance.now() });
      for (const wake of this.#listeners) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    });
  }

  get messages(): unknown[] {
    return this.received.map((r) => r.message);
  }

  send(message: object | string | Buffer): void {
    this.socket.send(typeof message === 'object' && !Buffer.isBuffer(message) ? JSON.stringify(message) : message);
  }

  /** Waits until `count` received messages satisfy `match`. */
  async waitForMessages(count: number, match: (m: unknown) => boolean = () => true): Promise<void> {
    await waitUntil(
      () => this.messages.filter(match).length >= count,
      (wake) => {
        this.#listeners.add(wake);
        return () => this.#listeners.delete(wake);
      },
      `${count} matching message(s) from the client`,
    );
  }
}

/** A `ws` server on 127.0.0.1 that runs `script` for each connection, speaking protocol v1. */
class ScriptedServer {
  readonly connections: ScriptedConnection[] = [];
  readonly #listeners = new Set<() => void>();
  script: (connection: ScriptedConnection, index: number) => void = () => {};

  private constructor(
    readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (socket, request) => {
      const connection = new ScriptedConnection(socket, request.url);
      this.connections.push(connection);
      this.script(connection, this.connections.length - 1);
      for (const wake of this.#listeners) wake();
    });
  }

  static async start(path = '/'): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const { port } = wss.address() as AddressInfo;
    return new ScriptedServer(wss, `ws://127.0.0.1:${port}${path}`);
  }

  async connection(index: number): Promise<ScriptedConnection> {
    await waitUntil(
      () => this.connections.length > index,
      (wake) => {
        this.#listeners.add(wake);
        return () => this.#listeners.delete(wake);
      },
      `connection #${index + 1}`,
    );
    return this.connections[index]!;
  }

  async stop(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

let resumeCounter = 0;

function queued(fields: Partial<QueuedStatus> = {}): QueuedStatus {
  resumeCounter += 1;
  return {
    type: 'status',
    status: 'queued',
    position: 3,
    queueLength: 10,
    session: 'session-a',
    resumeToken: `resume-${resumeCounter}`,
    etaMs: 4200,
    roomStatus: 'open',
    notice: null,
    ...fields,
  };
}

function active(fields: Partial<ActiveStatus> = {}): ActiveStatus {
  return {
    type: 'status',
    status: 'active',
    session: 'session-a',
    token: 'jwt-1',
    expiresAt: 1_900_000_000_000,
    heartbeat: { intervalMs: 100, timeoutMs: 1000 },
    ...fields,
  };
}

const isPing = (m: unknown) => (m as { type?: unknown }).type === 'ping';

type EventName = keyof WaitingRoomClientEvents;
type EventPayload<K extends EventName> = WaitingRoomClientEvents[K][0];

/** Everything a client emitted, by event name. */
function recordEvents(client: WaitingRoomClient) {
  const seen: { [K in EventName]: Array<EventPayload<K>> } = {
    state: [],
    status: [],
    position: [],
    room: [],
    admitted: [],
    token: [],
    evicted: [],
    error: [],
    close: [],
    message: [],
    presence: [],
    typing: [],
    history: [],
  };
  for (const name of Object.keys(seen) as EventName[]) {
    client.on(name, (payload: unknown) => {
      (seen[name] as unknown[]).push(payload);
    });
  }
  return seen;
}

/** Resolves with the payload of the next `event` that satisfies `match`. */
function nextEvent<K extends EventName>(
  client: WaitingRoomClient,
  event: K,
  match: (payload: EventPayload<K>) => boolean = () => true,
): Promise<EventPayload<K>> {
  return new Promise((resolve, reject) => {
    const listener = (payload: EventPayload<K>) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      client.off(event, listener as never);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`timed out waiting for the ${event} event`));
    }, WAIT_MS);
    client.on(event, listener as never);
  });
}

const untilState = (client: WaitingRoomClient, state: ClientState) =>
  client.state === state ? Promise.resolve(state) : nextEvent(client, 'state', (s) => s === state);

const servers: ScriptedServer[] = [];
const clients: WaitingRoomClient[] = [];

async function setup(options: Partial<WaitingRoomClientOptions> = {}, path = '/') {
  const server = await ScriptedServer.start(path);
  servers.push(server);
  const client = createNodeClient({
    url: server.url,
    // Tiny, fixed delays keep reconnect tests fast and deterministic.
    backoff: { baseMs: 20, capMs: 100, random: () => 0.5 },
    ...options,
  });
  clients.push(client);
  return { server, client, events: recordEvents(client) };
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  vi.unstubAllGlobals();
});

describe('WaitingRoomClient', () => {
  it('reports a pre-queue place without a position, and room changes', async () => {
    const { server, client, events } = await setup();
    server.script = (conn) => {
      conn.send(queued({ position: null, preQueue: true, opensAt: 5000, roomStatus: 'scheduled' }));
      conn.send({ type: 'room', status: 'paused', notice: 'Back soon' });
    };
    client.connect();
    await nextEvent(client, 'room');
    expect(events.position).toEqual([{ position: null, queueLength: 10, etaMs: 4200, roomStatus: 'scheduled', notice: null, preQueue: true, opensAt: 5000, priority: 0 }]);
    expect(events.room).toEqual([{ status: 'paused', notice: 'Back soon' }]);
  });

  it('reports state, raw status and position while queued', async () => {
    const { server, client, events } = await setup({}, '/rooms/launch');
    server.script = (conn) => {
      conn.send(queued({ position: 3, queueLength: 10, etaMs: 4200 }));
      conn.send(queued({ position: 2, queueLength: 9, etaMs: null }));
    };
    client.connect();
    expect(client.state).toBe('connecting');
    await nextEvent(client, 'position', (p) => p.position === 2);

    expect(events.state).toEqual(['connecting', 'queued']);
    expect(events.position).toEqual([
      { position: 3, queueLength: 10, etaMs: 4200, roomStatus: 'open', notice: null, preQueue: false, opensAt: null, priority: 0 },
      { position: 2, queueLength: 9, etaMs: null, roomStatus: 'open', notice: null, preQueue: false, opensAt: null, priority: 0 },
    ]);
    expect(events.status.map((s) => s.status)).toEqual(['queued', 'queued']);
    expect(events.status[1]).toMatchObject({ position: 2, session: 'session-a' });
    expect(client.position).toBe(2);
    expect(client.queueLength).toBe(9);
    expect(client.etaMs).toBeNull();
    expect(client.session).toBe('session-a');
    expect(client.token).toBeNull();
    expect((await server.connection(0)).socket.readyState).toBe(WebSocket.OPEN);
  });

  it('emits admitted with the token, forgets the resume token and follows token refreshes', async () => {
    const store = new MemoryResumeStore();
    const { server, client, events } = await setup({ resumeStore: store });
    server.script = (conn) => conn.send(queued({ resumeToken: 'held-place' }));
    client.connect();
    await untilState(client, 'queued');
    expect(store.get()).toBe('held-place');

    const conn = await server.connection(0);
    conn.send(active({ session: 'session-a', token: 'jwt-1', expiresAt: 1_900_000_000_000 }));
    const admission = await nextEvent(client, 'admitted');

    expect(admission).toEqual({ session: 'session-a', token: 'jwt-1', expiresAt: 1_900_000_000_000 });
    expect(client.state).toBe('active');
    expect(client.token).toBe('jwt-1');
    expect(client.expiresAt).toBe(1_900_000_000_000);
    expect(client.position).toBeNull();
    expect(store.get()).toBeNull();

    conn.send({ type: 'token', token: 'jwt-2', expiresAt: 1_900_000_060_000 });
    expect(await nextEvent(client, 'token')).toEqual({ token: 'jwt-2', expiresAt: 1_900_000_060_000 });
    expect(client.token).toBe('jwt-2');
    expect(events.admitted).toHaveLength(1);
  });

  it('pings at the interval the server announces while active, and never while queued', async () => {
    const { server, client } = await setup();
    server.script = (conn) => {
      conn.send(queued());
      conn.socket.on('message', (data) => {
        if (isPing(JSON.parse(String(data)))) conn.send({ type: 'pong', t: Date.now() });
      });
    };
    client.connect();
    await untilState(client, 'queued');
    const conn = await server.connection(0);
    // Several announced intervals long: a client that pinged while queued would show up here.
    await quietPeriod(350);
    expect(conn.messages).toEqual([]);

    conn.send(active({ heartbeat: { intervalMs: 100, timeoutMs: 1000 } }));
    await conn.waitForMessages(4, isPing);

    const pings = conn.received.filter((r) => isPing(r.message));
    for (let i = 1; i < pings.length; i++) {
      // Lower bound only: pings must not come faster than announced (the upper side is the wait above).
      expect(pings[i]!.at - pings[i - 1]!.at).toBeGreaterThan(60);
    }
    expect(conn.messages.every(isPing)).toBe(true);
  });

  it('uses pingIntervalMs instead of the announced interval when given', async () => {
    const { server, client } = await setup({ pingIntervalMs: 50 });
    server.script = (conn) => conn.send(active({ heartbeat: { intervalMs: 60_000, timeoutMs: 120_000 } }));
    client.connect();
    const conn = await server.connection(0);
    await conn.waitForMessages(3, isPing);
    expect(client.state).toBe('active');
  });

  it('reconnects after an abnormal drop and presents the stored token in the upgrade URL', async () => {
    const { server, client, events } = await setup();
    server.script = (conn, index) => {
      if (index === 0) conn.send(queued({ position: 5, resumeToken: 'place-five' }));
    };
    client.connect();
    await untilState(client, 'queued');
    (await server.connection(0)).socket.terminate();

    const close = await nextEvent(client, 'close');
    expect(close).toEqual({ code: CloseCode.abnormal, reason: '', willReconnect: true });
    expect(client.state).toBe('reconnecting');

    const second = await server.connection(1);
    expect(second.resumeToken).toBe('place-five');

    second.send(queued({ position: 4, resumeToken: 'place-five' }));
    await untilState(client, 'queued');
    expect(client.position).toBe(4);
    expect(events.state).toEqual(['connecting', 'queued', 'reconnecting', 'queued']);
  });

  it('keeps retrying with backoff while the server is unreachable, then resumes', async () => {
    const store = new MemoryResumeStore();
    store.set('held');
    const { server, client, events } = await setup({ resumeStore: store });
    let refused = 0;
    server.script = (conn) => {
      // The first two attempts fail the way an overloaded server fails them: no close frame.
      if (refused < 2) {
        refused += 1;
        conn.socket.terminate();
      } else {
        conn.send(queued({ resumeToken: 'held' }));
      }
    };
    client.connect();
    await untilState(client, 'queued');
    expect(server.connections).toHaveLength(3);
    expect(events.close.map((c) => c.willReconnect)).toEqual([true, true]);
    const placed = server.connections[2]!;
    expect(placed.resumeToken).toBe('held');
  });

  it.each([
    ['server shutdown', CloseCode.goingAway, true],
    ['internal error', CloseCode.internal, false],
  ])('reconnects after %s (%i)', async (_name, code, evictedFirst) => {
    const { server, client, events } = await setup();
    server.script = (conn, index) => {
      conn.send(queued({ resumeToken: `place-${index}` }));
      if (index > 0) return;
      if (evictedFirst) conn.send({ type: 'evicted', reason: 'shutdown' });
      setTimeout(() => conn.socket.close(code), 20);
    };
    client.connect();
    const close = await nextEvent(client, 'close');
    expect(close).toMatchObject({ code, willReconnect: true });
    const second = await server.connection(1);
    expect(second.resumeToken).toBe('place-0');
    expect(events.evicted).toEqual(evictedFirst ? [{ reason: 'shutdown' }] : []);
  });

  it.each([
    CloseCode.left,
    CloseCode.binary,
    CloseCode.flood,
    CloseCode.tooLarge,
    CloseCode.heartbeatTimeout,
    CloseCode.sessionExpired,
    CloseCode.queueFull,
    CloseCode.unknownRoom,
    CloseCode.replaced,
    CloseCode.roomClosed,
  ])('does not reconnect after the server closes with %i', async (code) => {
    const { server, client, events } = await setup();
    server.script = (conn) => {
      conn.send(queued());
      setTimeout(() => conn.socket.close(code, 'decided'), 20);
    };
    client.connect();
    const close = await nextEvent(client, 'close');
    expect(close).toEqual({ code, reason: 'decided', willReconnect: false });
    expect(client.state).toBe('closed');
    // Many times the backoff window: a reconnect would have arrived by now.
    await quietPeriod(200);
    expect(server.connections).toHaveLength(1);
    expect(events.state.at(-1)).toBe('closed');
  });

  it('does not reconnect when reconnect is false', async () => {
    const { server, client } = await setup({ reconnect: false });
    server.script = (conn) => {
      conn.send(queued());
      setTimeout(() => conn.socket.terminate(), 20);
    };
    client.connect();
    expect(await nextEvent(client, 'close')).toMatchObject({ code: CloseCode.abnormal, willReconnect: false });
    await quietPeriod(200);
    expect(server.connections).toHaveLength(1);
    expect(client.state).toBe('closed');
  });

  it('leave() sends leave, forgets the resume token and does not reconnect after the 1000 close', async () => {
    const store = new MemoryResumeStore();
    const { server, client, events } = await setup({ resumeStore: store });
    server.script = (conn) => {
      conn.send(queued({ resumeToken: 'my-place' }));
      conn.socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type === 'leave') conn.socket.close(CloseCode.left);
      });
    };
    client.connect();
    await untilState(client, 'queued');
    expect(store.get()).toBe('my-place');

    client.leave();
    const close = await nextEvent(client, 'close');
    const conn = await server.connection(0);
    expect(conn.messages).toEqual([{ type: 'leave' }]);
    expect(close).toEqual({ code: CloseCode.left, reason: '', willReconnect: false });
    expect(client.state).toBe('closed');
    expect(store.get()).toBeNull();
    await quietPeriod(200);
    expect(server.connections).toHaveLength(1);
    expect(events.state).toEqual(['connecting', 'queued', 'closed']);
  });

  it('leave() during a reconnect wait stops without connecting again', async () => {
    const store = new MemoryResumeStore();
    const { server, client } = await setup({ resumeStore: store, backoff: { baseMs: 400, random: () => 0.99 } });
    server.script = (conn) => conn.send(queued({ resumeToken: 'kept' }));
    client.connect();
    await untilState(client, 'queued');
    (await server.connection(0)).socket.terminate();
    await untilState(client, 'reconnecting');

    client.leave();
    expect(client.state).toBe('closed');
    expect(store.get()).toBeNull();
    await quietPeriod(600);
    expect(server.connections).toHaveLength(1);
  });

  it('on evicted then close 4000 emits evicted, stops pinging and does not reconnect', async () => {
    const { server, client, events } = await setup();
    let conn: ScriptedConnection | undefined;
    server.script = (c) => {
      conn = c;
      c.send(active({ heartbeat: { intervalMs: 50, timeoutMs: 500 } }));
    };
    client.connect();
    await untilState(client, 'active');
    await conn!.waitForMessages(1, isPing);
    // Evict right after a ping, so the next one is a whole interval away.
    conn!.send({ type: 'evicted', reason: 'heartbeat_timeout' });
    const eviction = await nextEvent(client, 'evicted');
    const pingsAtEviction = conn!.messages.filter(isPing).length;
    await quietPeriod(250);
    expect(conn!.messages.filter(isPing)).toHaveLength(pingsAtEviction);

    conn!.socket.close(CloseCode.heartbeatTimeout);
    const close = await nextEvent(client, 'close');
    expect(eviction).toEqual({ reason: 'heartbeat_timeout' });
    expect(close).toMatchObject({ code: CloseCode.heartbeatTimeout, willReconnect: false });
    expect(events.evicted).toHaveLength(1);
    await quietPeriod(200);
    expect(server.connections).toHaveLength(1);
    expect(client.state).toBe('closed');
  });

  it('on bad_resume clears the refused token and keeps the fresh place', async () => {
    const store = new MemoryResumeStore();
    store.set('expired-token');
    const { server, client, events } = await setup({ resumeStore: store });
    server.script = (conn) => {
      // As the server does with a resume token in the URL whose place is gone: a fresh place, then the refusal.
      conn.send(queued({ position: 7, queueLength: 7, resumeToken: 'fresh-place' }));
      if (conn.resumeToken !== null) conn.send({ type: 'error', code: 'bad_resume', message: 'unknown or expired resume token' });
    };
    client.connect();
    const error = await nextEvent(client, 'error');
    const conn = await server.connection(0);

    expect(conn.resumeToken).toBe('expired-token');
    expect(conn.messages).toEqual([]);
    expect(error).toEqual({ code: 'bad_resume', message: 'unknown or expired resume token' });
    expect(store.get()).toBe('fresh-place');
    expect(client.state).toBe('queued');
    expect(client.position).toBe(7);
    expect(events.close).toEqual([]);
    expect(conn.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('on bad_resume before any status clears the stored token', async () => {
    const store = new MemoryResumeStore();
    store.set('expired-token');
    const { server, client } = await setup({ resumeStore: store });
    server.script = (conn) => {
      if (conn.resumeToken === null) return;
      conn.send({ type: 'error', code: 'bad_resume', message: 'unknown or expired resume token' });
      conn.send(queued({ position: 2, resumeToken: 'fresh-place' }));
    };
    let storedWhenRefused: string | null | undefined;
    client.once('error', () => {
      storedWhenRefused = store.get();
    });
    client.connect();
    await nextEvent(client, 'error');
    expect(storedWhenRefused).toBeNull();
    await untilState(client, 'queued');
    expect(store.get()).toBe('fresh-place');
  });

  it('passes other server errors through and keeps the connection', async () => {
    const { server, client } = await setup();
    server.script = (conn) => {
      conn.send(queued());
      conn.send({ type: 'error', code: 'rate_limited', message: 'slow down', retryAfterMs: 250 });
    };
    client.connect();
    expect(await nextEvent(client, 'error')).toEqual({ code: 'rate_limited', message: 'slow down', retryAfterMs: 250 });
    expect(client.state).toBe('queued');
  });

  it('ignores non-JSON frames, binary frames and unknown or malformed messages', async () => {
    const { server, client, events } = await setup();
    server.script = (conn) => {
      conn.send('not json at all');
      conn.send(Buffer.from([1, 2, 3]));
      conn.send('[1,2,3]');
      conn.send('null');
      conn.send('{"no":"type"}');
      conn.send({ type: 'weather', sunny: true });
      conn.send({ type: 'status', status: 'paused' });
      conn.send({ type: 'status', status: 'queued', position: 'first' });
      conn.send({ type: 'pong', t: 1 });
      conn.send(queued({ position: 6 }));
    };
    client.connect();
    await untilState(client, 'queued');
    expect(client.position).toBe(6);
    expect(events.position).toHaveLength(1);
    expect(events.status).toHaveLength(1);
    expect(events.error).toEqual([]);
    expect(events.close).toEqual([]);
  });

  it('close() while active closes with 1000, stops pinging and leaves no timers behind', async () => {
    const timersBefore = activeTimeouts();
    const { server, client, events } = await setup();
    server.script = (conn) => conn.send(active({ heartbeat: { intervalMs: 50, timeoutMs: 500 } }));
    client.connect();
    await untilState(client, 'active');
    const conn = await server.connection(0);
    await conn.waitForMessages(1, isPing);

    client.close();
    expect(client.state).toBe('closed');
    expect(events.close).toEqual([{ code: CloseCode.left, reason: '', willReconnect: false }]);
    expect((await conn.closed).code).toBe(CloseCode.left);
    await eventuallyNoTimersBeyond(timersBefore);
    expect(server.connections).toHaveLength(1);
  });

  it('close() during a reconnect wait cancels it and leaves no timers behind', async () => {
    const timersBefore = activeTimeouts();
    const { server, client, events } = await setup({ backoff: { baseMs: 400, random: () => 0.99 } });
    server.script = (conn) => conn.send(queued());
    client.connect();
    await untilState(client, 'queued');
    (await server.connection(0)).socket.terminate();
    await untilState(client, 'reconnecting');

    client.close();
    expect(client.state).toBe('closed');
    await eventuallyNoTimersBeyond(timersBefore);
    await quietPeriod(600);
    expect(server.connections).toHaveLength(1);
    expect(events.close).toHaveLength(1);
  });

  it('close() while the socket is still opening aborts it without reconnecting', async () => {
    const { server, client, events } = await setup();
    client.connect();
    client.close();
    expect(client.state).toBe('closed');
    expect(events.close).toEqual([{ code: CloseCode.left, reason: '', willReconnect: false }]);
    await quietPeriod(200);
    expect(server.connections.length).toBeLessThanOrEqual(1);
    expect(events.state).toEqual(['connecting', 'closed']);
  });

  it('can connect again after close()', async () => {
    const { server, client } = await setup();
    server.script = (conn, index) => conn.send(queued({ position: index + 1 }));
    client.connect();
    await untilState(client, 'queued');
    client.close();
    client.connect();
    await nextEvent(client, 'position', (p) => p.position === 2);
    expect(client.state).toBe('queued');
  });
});

describe('WaitingRoomClient resume across instances (page reload)', () => {
  it('keeps the token in Web Storage under the room URL and resumes from a new client', async () => {
    const storage = new Map<string, string>();
    const sessionStorageLike: ResumeStorage = {
      getItem: (key) => storage.get(key) ?? null,
      setItem: (key, value) => void storage.set(key, value),
      removeItem: (key) => void storage.delete(key),
    };
    const server = await ScriptedServer.start('/rooms/launch');
    servers.push(server);
    server.script = (conn, index) => conn.send(queued({ position: 9 - index, resumeToken: 'tab-place' }));
    const options = (): WaitingRoomClientOptions => ({
      url: server.url,
      resumeStore: new WebStorageResumeStore(sessionStorageLike, server.url),
    });

    const before = createNodeClient(options());
    clients.push(before);
    before.connect();
    await untilState(before, 'queued');
    expect([...storage.keys()]).toEqual([resumeStorageKey(server.url)]);
    expect(resumeStorageKey(server.url)).toContain(server.url);
    expect(storage.get(resumeStorageKey(server.url))).toBe('tab-place');

    before.close();
    const after = createNodeClient(options());
    clients.push(after);
    after.connect();
    const second = await server.connection(1);
    expect(second.resumeToken).toBe('tab-place');
  });

  it('keys different rooms apart', () => {
    expect(resumeStorageKey('ws://127.0.0.1:1/rooms/a')).not.toBe(resumeStorageKey('ws://127.0.0.1:1/rooms/b'));
    expect(resumeStorageKey('ws://127.0.0.1:1')).toBe(resumeStorageKey('ws://127.0.0.1:1/'));
  });
});

describe('WaitingRoomClient WebSocket option', () => {
  it('defaults to globalThis.WebSocket', async () => {
    vi.stubGlobal('WebSocket', WebSocket);
    const server = await ScriptedServer.start();
    servers.push(server);
    server.script = (conn) => conn.send(queued({ position: 1 }));
    const client = new WaitingRoomClient({ url: server.url });
    clients.push(client);
    client.connect();
    await untilState(client, 'queued');
    expect(client.position).toBe(1);
  });

  it('refuses to start without any WebSocket implementation', () => {
    vi.stubGlobal('WebSocket', undefined);
    expect(() => new WaitingRoomClient({ url: 'ws://127.0.0.1:1/' })).toThrow(TypeError);
  });

  it('rejects a pingIntervalMs that is not a positive number', () => {
    expect(() => createNodeClient({ url: 'ws://127.0.0.1:1/', pingIntervalMs: 0 })).toThrow(RangeError);
  });
});

/** Count of live Node timers; the client must not leave any of its own behind. */
function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

async function eventuallyNoTimersBeyond(baseline: number): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  // `ws` keeps a close-handshake timer until the peer's close frame lands, so allow a few turns.
  while (activeTimeouts() > baseline) {
    if (performance.now() > deadline) {
      throw new Error(`${activeTimeouts() - baseline} timer(s) still running after close()`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('withResumeToken', () => {
  it('adds the token to the query, keeping what the URL already has', () => {
    expect(withResumeToken('ws://h:1/', 'a.b')).toBe('ws://h:1/?resume=a.b');
    expect(withResumeToken('ws://h:1/rooms/x?lang=en', 'a b')).toBe('ws://h:1/rooms/x?lang=en&resume=a%20b');
    expect(withResumeToken('ws://h:1/#top', 't')).toBe('ws://h:1/?resume=t#top');
  });
});
