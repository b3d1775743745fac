import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { InspectionEvent } from 'xstate';
import type { RoomConfig, ServerConfig } from '../config/server-config.js';
import { gateEffectsOnCommit } from '../durable/commit-gated-effects.js';
import { openServerDataDir } from '../durable/server-data-dir.js';
import { wallClock } from '../log/actor-clocks.js';
import { EventLog } from '../log/event-log.js';
import { JsonlSink } from '../log/jsonl-sink.js';
import { createPageRoutes } from '../pages/page-routes.js';
import { RoomRuntime } from '../rooms/room-runtime.js';
import { createAdmissionTokenIssuer, type AdmissionTokenIssuer } from '../tokens/admission-tokens.js';
import { createResumeTokens, type ResumeTokens } from '../tokens/resume-tokens.js';
import { AdmissionRate } from './admission-rate.js';
import { sendToClient, type ClientSocket } from './client-socket.js';
import { createHttpHandler } from './http-api.js';
import { HandshakeGuard } from './handshake-guard.js';
import { createLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { PositionFeed, defaultPositionFeedTiming, type PositionFeedTiming } from './position-feed.js';
import { resumeTokenFromUrl, roomFromPath } from './room-path.js';
import { closeWith, createSocketEffects, queuedStatus } from './socket-effects.js';
import { createSocketHandlers } from './socket-handlers.js';
import { TokenBucket } from './token-bucket.js';
import { UpgradeGate } from './upgrade-gate.js';

/**
 * A room as the server runs it: the actors plus the edge's fan-out and ETA state. Its settings are
 * `runtime.settings` (the configured ones with admin changes applied): the room keeps no other copy.
 */
export interface ServedRoom {
  runtime: RoomRuntime;
  feed: PositionFeed;
  rate: AdmissionRate;
}

export interface AnteroomServerOptions {
  logger?: Logger;
  /** Where actor inspection events go (`--inspect`); absent, actors are not inspected at all. */
  inspect?: (event: InspectionEvent) => void;
  positionFeedTiming?: PositionFeedTiming;
  /** Sustained refusals in a row after which a flooding client is closed with 1008. */
  floodCloseAfter?: number;
}

export interface AnteroomServer {
  readonly http: Server;
  readonly log: EventLog;
  readonly rooms: ReadonlyMap<string, ServedRoom>;
  readonly clients: ReadonlyMap<string, ClientSocket>;
  readonly gate: UpgradeGate;
  readonly metrics: ServerMetrics;
  readonly issuer: AdmissionTokenIssuer;
  readonly logger: Logger;
  readonly config: ServerConfig;
  readonly shuttingDown: boolean;
  /** Listens on config.host:port; resolves with the real address. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Graceful stop: refuse new sockets, evict everyone with `shutdown` and 1001, flush the log. */
  close(): Promise<void>;
}

/** How long shutdown waits for clients to complete their close handshakes before cutting them off. */
const shutdownGraceMs = 2000;

/**
 * Pending TCP connections the kernel may queue before the server accepts them (capped by net.core.somaxconn).
 * Node's default of 511 overflows when a crowd arrives at once, and the overflowing clients are reset.
 */
const listenBacklog = 4096;

export async function createAnteroomServer(config: ServerConfig, options: AnteroomServerOptions = {}): Promise<AnteroomServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // With a data dir, the key, the resume secret and the log outlive the process, and the rooms are recovered.
  const durable = await openServerDataDir(config, logger);
  const issuer = await createAdmissionTokenIssuer({ keyFile: config.keyFile ?? durable?.secrets.keyFile });
  const resumeTokens: ResumeTokens = createResumeTokens(durable?.secrets.resumeSecret);
  const sink = durable?.sink ?? (config.eventLog ? new JsonlSink(config.eventLog) : null);
  const log = new EventLog({ ringSize: config.eventRingSize, sink, lastSeq: durable?.recovered.lastSeq });
  const clients = new Map<string, ClientSocket>();
  const rooms = new Map<string, ServedRoom>();
  const gate = new UpgradeGate(config);
  const metrics: ServerMetrics = new ServerMetrics({ log, rooms, openConnections: () => gate.openCount, pendingHandshakes: (): number => handshakes.pendingCount });
  let shuttingDown = false;
  const socketHandlers = createSocketHandlers({
    config,
    logger,
    metrics,
    resumeTokens,
    floodCloseAfter: options.floodCloseAfter ?? config.rateLimit * 2,
    forget: (client) => {
      clients.delete(client.conn);
      gate.closed(client.ip);
    },
  });

  for (const roomConfig of config.rooms) {
    rooms.set(roomConfig.name, openRoom(roomConfig));
    durable?.resumeRoom(rooms.get(roomConfig.name)!.runtime);
  }
  durable?.startSnapshots(log, () => [...rooms.values()].map((room) => room.runtime));

  function openRoom(roomConfig: RoomConfig): ServedRoom {
    const rate = new AdmissionRate();
    // The feed and the runtime refer to each other; the feed is only used after both exist.
    let feed: PositionFeed | null = null;
    const recovered = durable?.recoveredRoom(roomConfig);
    const effects = createSocketEffects({
      room: roomConfig,
      clients,
      issuer,
      resumeTokens,
      rate,
      outboundBudget: config.outboundBudget,
      logger,
      queueChanged: () => feed?.markDirty(),
      onSend: (message, client) => metrics.sent(message, client.conn),
      overflowed: (client) => {
        logger.warn({ conn: client.conn, session: client.session, room: roomConfig.name, buffered: client.ws.bufferedAmount }, 'client too slow; dropping it');
        // Reported on the next turn, so the drop is an input of its own in the log, not part of another.
        setImmediate(() => {
          client.room.overflow(client.conn);
        });
      },
    });
    const runtime = new RoomRuntime({
      settings: roomConfig,
      log,
      clockFor: () => wallClock,
      recordTimers: true,
      inspect: options.inspect,
      ...(recovered ? { recovered } : {}),
      effects: durable ? gateEffectsOnCommit(effects, durable.sink) : effects,
    });
    feed = new PositionFeed(runtime, (conn, position) => sendPosition(rooms.get(roomConfig.name)!, conn, position), options.positionFeedTiming ?? defaultPositionFeedTiming);
    return { runtime, feed, rate };
  }

  function sendPosition(room: ServedRoom, conn: string, position: number): 'sent' | 'unchanged' | 'deferred' {
    const client = clients.get(conn);
    if (!client || client.sentPosition === position) return 'unchanged';
    // Not yet told its place (its first status waits for the log to be durable): that status comes first.
    if (client.sentPosition === 0) return 'deferred';
    const outcome = sendToClient(
      client,
      queuedStatus(client, position, room.runtime.queueLength, room.rate),
      config.outboundBudget,
      // A slow reader gets no more position updates until it catches up; it then gets the latest.
      64 * 1024,
    );
    if (outcome === 'sent') {
      client.sentPosition = position;
      metrics.messagesSent.inc({ type: 'status' });
      return 'sent';
    }
    if (outcome === 'overflow') setImmediate(() => client.room.overflow(client.conn));
    return 'deferred';
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxPayload, perMessageDeflate: false, clientTracking: false });
  const pages = createPageRoutes({ rooms, log, config, logger });
  const http = createServer(
    createHttpHandler({
      rooms,
      log,
      issuer,
      config,
      logger,
      isShuttingDown: () => shuttingDown,
      metrics,
      extraRoutes: [pages.route],
    }),
  );
  http.once('close', () => pages.stop());
  http.headersTimeout = config.handshakeTimeoutMs + 1000;
  http.requestTimeout = Math.max(config.handshakeTimeoutMs * 2, 10_000);
  const handshakes = new HandshakeGuard(http, {
    timeoutMs: config.handshakeTimeoutMs,
    maxPending: config.maxConnections,
    onCut: (reason) => metrics.handshakesCut.inc({ reason }),
  });

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (shuttingDown) return refuseUpgrade(socket, 503, 'shutting down');
    const path = roomFromPath(request.url);
    if (path.kind !== 'room') return refuseUpgrade(socket, 404, 'not a room path');
    const verdict = gate.check(request);
    if (!verdict.ok) {
      logger.info({ ip: gate.clientIp(request), reason: verdict.reason }, 'upgrade refused');
      metrics.upgradesRefused.inc({ reason: verdict.refusal });
      return refuseUpgrade(socket, verdict.status, verdict.reason);
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const room = rooms.get(path.room);
      if (!room) {
        // Accepted first so a browser can read why: the close code says the room does not exist.
        closeWith(ws, 'unknownRoom');
        return;
      }
      if (shuttingDown) {
        closeWith(ws, durable ? 'restart' : 'shutdown');
        return;
      }
      acceptClient(ws, room, verdict.ip, resumeTokenFromUrl(request.url));
    });
  });

  function acceptClient(ws: WebSocket, room: ServedRoom, ip: string, resumeToken: string | null): void {
    const conn = nanoid(12);
    const session = nanoid();
    const client: ClientSocket = {
      conn,
      ws,
      room: room.runtime,
      ip,
      openedAt: Date.now(),
      session,
      resumeToken: resumeTokens.mint(room.runtime.name, session),
      sentPosition: 0,
      tokenRefresh: null,
      overflowed: false,
      bucket: new TokenBucket(config.rateLimit, config.rateLimit * 2, Date.now()),
    };
    clients.set(conn, client);
    gate.opened(ip);
    socketHandlers.attach(client);
    logger.debug({ conn, session, room: room.runtime.name, ip }, 'connected');
    // A resume token in the URL names the place asked for, so a full line cannot turn its owner away.
    room.runtime.connect(conn, session, resumeToken === null ? undefined : resumeTokens.read(room.runtime.name, resumeToken));
  }

  const server: AnteroomServer = {
    http,
    log,
    rooms,
    clients,
    gate,
    metrics,
    issuer,
    logger,
    config,
    get shuttingDown() {
      return shuttingDown;
    },
    listen() {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen({ port: config.port, host: config.host, backlog: listenBacklog }, () => {
          http.off('error', reject);
          const address = http.address();
          const port = typeof address === 'object' && address ? address.port : config.port;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({ host: config.host, port, url: `ws://${host}:${port}` });
        });
      });
    },
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      const closedHttp = new Promise<void>((resolve) => http.close(() => resolve()));
      handshakes.close();
      const open = [...clients.values()];
      const allClosed = Promise.all(open.map((client) => new Promise<void>((resolve) => {
        if (client.ws.readyState === client.ws.CLOSED) return resolve();
        client.ws.once('close', () => resolve());
      })));
      // With a data dir the line is kept: places and seats are held (close 1012), not ended (1001).
      for (const room of rooms.values()) {
        if (durable) room.runtime.holdForRestart();
        else room.runtime.shutdown();
      }
      const grace = setTimeout(() => {
        for (const client of clients.values()) client.ws.terminate();
      }, shutdownGraceMs);
      await allClosed;
      clearTimeout(grace);
      http.closeAllConnections();
      await closedHttp;
      for (const room of rooms.values()) {
        room.feed.stop();
        room.runtime.stop();
      }
      metrics.close();
      await log.close();
      await durable?.close();
      logger.info('stopped');
      logger.flush?.();
    },
  };
  return server;
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = { 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

