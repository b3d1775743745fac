import { WebSocket } from 'ws';
import { parseServeArgs, type ServerConfig } from '../../src/config/server-config.js';
import { createAnteroomServer, type AnteroomServer, type AnteroomServerOptions } from '../../src/server/anteroom-server.js';
import { createLogger } from '../../src/server/logger.js';

export interface LiveServer {
  server: AnteroomServer;
  url: string;
  httpUrl: string;
  close(): Promise<void>;
}

const runningServers = new Set<LiveServer>();
const openClients = new Set<TestClient>();

/**
 * Cuts every test client still open and stops every server started with `startServer`: the one cleanup a
 * test file needs (`afterEach(closeAll)`).
 */
export async function closeAll(): Promise<void> {
  for (const client of openClients) client.terminate();
  openClients.clear();
  const servers = [...runningServers];
  runningServers.clear();
  await Promise.all(servers.map((live) => live.close()));
}

/** A real anteroom server on 127.0.0.1 with a free port, configured from command-line style flags. */
export async function startServer(flags: string[] = [], options: AnteroomServerOptions = {}, patch: Partial<ServerConfig> = {}): Promise<LiveServer> {
  const config = { ...parseServeArgs(['--port', '0', '--host', '127.0.0.1', ...flags], {}), ...patch };
  const server = await createAnteroomServer(config, { logger: createLogger('silent', false), ...options });
  const { url } = await server.listen();
  const live: LiveServer = {
    server,
    url,
    httpUrl: url.replace('ws://', 'http://'),
    close: () => {
      runningServers.delete(live);
      return server.close();
    },
  };
  runningServers.add(live);
  return live;
}

export type Message = Record<string, any>;

/** A protocol test client over a real socket: records every message and the close. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  private waiters: { predicate: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private seen = 0;

  constructor(url: string, options: { headers?: Record<string, string>; autoPong?: boolean } = {}) {
    this.ws = new WebSocket(url, { headers: options.headers, autoPong: options.autoPong ?? true });
    openClients.add(this);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        openClients.delete(this);
        resolve({ code, reason: reason.toString(), at: Date.now() });
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Message;
      message.receivedAt = Date.now();
      this.messages.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.predicate(message)) return true;
        w.resolve(message);
        return false;
      });
    });
  }

  static async open(url: string, options?: ConstructorParameters<typeof TestClient>[1]): Promise<TestClient> {
    const client = new TestClient(url, options);
    await client.opened;
    return client;
  }

  /** Opens a client and waits for its first `status`: placed in a seat or in line. */
  static async placed(url: string, options?: ConstructorParameters<typeof TestClient>[1]): Promise<TestClient> {
    const client = await TestClient.open(url, options);
    await client.next((m) => m.type === 'status');
    return client;
  }

  /** The next message (after those already taken with `next`) that matches, or any earlier unseen one. */
  next(predicate: (m: Message) => boolean = () => true, timeoutMs = 5000): Promise<Message> {
    for (; this.seen < this.messages.length; this.seen++) {
      const message = this.messages[this.seen]!;
      if (predicate(message)) {
        this.seen++;
        return Promise.resolve(message);
      }
    }
    this.seen = this.messages.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          this.seen = this.messages.length;
          resolve(m);
        },
      });
    });
  }

  /** The latest status message received so far. */
  get lastStatus(): Message | undefined {
    return this.messages.filter((m) => m.type === 'status').at(-1);
  }

  /** Waits until the latest status satisfies `predicate`. */
  async until(predicate: (status: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.lastStatus;
      if (status && predicate(status)) return status;
      if (Date.now() > deadline) throw new Error(`status never matched; last: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(code?: number): Promise<{ code: number; reason: string; at: number }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  return response.json();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
