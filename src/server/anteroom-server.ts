import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { InspectionEvent } from 'xstate';
import type { AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import { ConfigError } from '../config/config-error.js';
import type { RoomConfig, ServerConfig } from '../config/server-config.js';
import { wallClock } from '../log/actor-clocks.js';
import { EventLog } from '../log/event-log.js';
import { JsonlSink } from '../log/jsonl-sink.js';
import { lastSeqInFile } from '../log/read-event-log.js';
import { createPageRoutes, type PageRoutes } from '../pages/page-routes.js';
import { gateEffectsOnCommit } from '../durable/commit-gated-effects.js';
import type { DurableStore } from '../durable/durable-store.js';
import type { GroupCommitSink } from '../durable/group-commit-sink.js';
import { openServerDataDir } from '../durable/server-data-dir.js';
import { scheduleOpening } from '../rooms/room-opening.js';
import { RoomRuntime, type ConnectionEffects } from '../rooms/room-runtime.js';
import { createAdmissionTokenIssuer, type AdmissionTokenIssuer } from '../tokens/admission-tokens.js';
import { createResumeTokens, type ResumeTokens } from '../tokens/resume-tokens.js';
import { AddressRate } from './address-rate.js';
import { AdmissionRate } from './admission-rate.js';
import { sendSerialized, sendToClient, type ClientSocket } from './client-socket.js';
import type { RoomMessage } from '../protocol/messages.js';
import { createHttpHandler, type HttpApiDeps, type HttpSurface } from './http-api.js';
import { boundRequestTimes, HandshakeGuard } from './handshake-guard.js';
import { createLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { PositionFeed, defaultPositionFeedTiming, type PositionFeedTiming, type SendPosition } from './position-feed.js';
import { resumeTokenFromUrl, roomFromPath } from './room-path.js';
import { closeForInternalError, closeWith, createSocketEffects, queuedStatus, roomMessage } from './socket-effects.js';
import { createSocketHandlers } from './socket-handlers.js';
import { TokenBucket } from './token-bucket.js';
import { UpgradeGate } from './upgrade-gate.js';
import { ArrivalLine } from './arrival-line.js';
import { createRoomSet, type RunTimeRooms } from './run-time-rooms.js';
import { createSiteSessionRoutes } from './site-sessions-api.js';
import { checkedTicketVerifier, createTicketVerifier, priorityForUpgrade, ticketFromUrl, type TicketVerifier } from './join-tickets.js';
import { PlacesPerIp } from './places-per-ip.js';
import { ChatDelivery } from './chat-delivery.js';
import { openAnteroomDatabase, type AnteroomDatabase } from '../store/anteroom-database.js';
import { ChatHistory } from '../store/chat-history.js';
import { HeldPlaces } from './held-places.js';
import { createSignIn, type SignIn } from '../identity/sign-in.js';
import type { ConnectionsPerUser } from './connections-per-user.js';
import type { Identity } from '../../machines/identity.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import { clusterRoute } from '../cluster/cluster-route.js';

/**
 * A room as the server runs it: the actors plus the edge's fan-out and ETA state. Its settings are
 * `runtime.settings` (the configured ones with admin changes applied): the room keeps no other copy.
 */
export interface ServedRoom {
  runtime: RoomRuntime;
  feed: PositionFeed;
  rate: AdmissionRate;
  /** Verifies the room's join tickets; null when it accepts none. */
  tickets: TicketVerifier | null;
  /** Open places per client address, for `maxPlacesPerIp`. */
  placesPerIp: PlacesPerIp;
  /** Cancels the timer that opens a scheduled room at `opensAt`. */
  cancelOpening: () => void;
  /** A live room's chat at the edge (history, broadcasts); null in a room without chat. */
  chat: ChatDelivery | null;
  /** Cluster mode: the node that owns the room's admission now (null while none does). */
  owner?: () => string | null;
}

/** What a caller (the command line, a test, a bench) may add to the configuration. */
export interface AnteroomServerOptions {
  /** Where the server logs; by default a pino logger at `config.logLevel` on stderr. */
  logger?: Logger;
  /** Where actor inspection events go (`--inspect`); absent, actors are not inspected at all. */
  inspect?: (event: InspectionEvent) => void;
  positionFeedTiming?: PositionFeedTiming;
  /** Sustained refusals in a row after which a flooding client is closed with 1008. */
  floodCloseAfter?: number;
  /**
   * How long (ms) a peer has to answer the server's close frame before its socket is cut, whatever closed
   * it (default 5000). Every such socket counts toward the connection limits until then.
   */
  closeTimeoutMs?: number;
}

/** A running server, as `createAnteroomServer` returns it. */
export interface AnteroomServer {
  /** The listener for WebSockets, the waiting page and health (and everything else without `--ops-port`). */
  readonly http: Server;
  /** The `--ops-port` listener for the operators' endpoints, or null when they share `http`. */
  readonly ops: Server | null;
  readonly log: EventLog;
  readonly rooms: ReadonlyMap<string, ServedRoom>;
  readonly clients: ReadonlyMap<string, ClientSocket>;
  readonly gate: UpgradeGate;
  readonly metrics: ServerMetrics;
  readonly issuer: AdmissionTokenIssuer;
  readonly logger: Logger;
  readonly config: ServerConfig;
  readonly shuttingDown: boolean;
  /**
   * Listens on config.host:port (and config.opsHost:opsPort); resolves with the real addresses, `opsUrl`
   * (`http://host:port`) only with an ops listener. Rejects when a port cannot be bound.
   */
  listen(): Promise<{ host: string; port: number; url: string; opsUrl?: string }>;
  /** Graceful stop: refuse new sockets, evict everyone with `shutdown` and 1001, flush the log. */
  close(): Promise<void>;
}

/** How long shutdown waits for clients to complete their close handshakes before cutting them off. */
const shutdownGraceMs = 2000;

/** How long a peer has to answer a close frame (the documented 5 s), for every socket however it was closed. */
const defaultCloseTimeoutMs = 5000;

/**
 * Pending TCP connections the kernel may queue before the server accepts them (capped by net.core.somaxconn).
 * Node's default of 511 overflows when a crowd arrives at once, and the overflowing clients are reset.
 */
const listenBacklog = 4096;

/** Costly operator reads (event pages, new event streams, metrics scrapes) per client address: per second, and saved up. */
const opsReadRate = 20;
const opsReadBurst = 40;
/**
 * Longest the event loop is spent accepting arrivals before it turns to timers and sockets again, ms: a storm
 * of arrivals delays an admission by about this much, not by the storm.
 */
const arrivalSliceMs = 4;

/** Everything the server's steps share: made once by `createAnteroomServer`. */
interface ServerParts {
  config: ServerConfig;
  options: AnteroomServerOptions;
  logger: Logger;
  issuer: AdmissionTokenIssuer;
  resumeTokens: ResumeTokens;
  log: EventLog;
  clients: Map<string, ClientSocket>;
  rooms: Map<string, ServedRoom>;
  gate: UpgradeGate;
  /** Places held for a resume, by the address that dropped them (they count toward its connection limit). */
  heldPlaces: HeldPlaces;
  metrics: ServerMetrics;
  closeTimeoutMs: number;
  state: { shuttingDown: boolean; eventLogFailure: Error | null };
  /** Connections still mid-handshake, on every listener. */
  handshakes: HandshakeGuard[];
  /** Upgrades granted and waiting, in order, to become WebSockets and join their room. */
  arrivals: ArrivalLine;
  /** The data dir (`--data-dir`): the log's segments, snapshots and recovered rooms; null in memory. */
  durable: DurableStore | null;
  /** Sign-in at the upgrade, the built-in accounts and the per-user connection limit. */
  signIn: SignIn;
  /**
   * Live rooms' history in `anteroom.db` (in the data dir, or in memory without one), opened when the first
   * live room needs it, so a server without chat never loads the SQLite driver.
   */
  history: () => ChatHistory;
  /** `anteroom.db`, opened on first use (the built-in accounts need a data dir). */
  database: () => AnteroomDatabase;
  /** Closes the database, if it was opened. */
  closeDatabase: () => void;
  /** Cluster mode (`--nats`): this node's membership; null on a single node. */
  cluster: ClusterNode | null;
}

type SocketHandlers = ReturnType<typeof createSocketHandlers>;

interface Listeners {
  http: Server;
  ops: Server | null;
  pages: PageRoutes;
}

/**
 * Builds an anteroom server from a parsed configuration: the rooms and their actors, the event log, the
 * token issuer, the HTTP and WebSocket listener (and the `--ops-port` listener). Nothing listens until
 * `listen()` is called.
 *
 * @throws ConfigError when `config.eventLog` cannot be opened for appending, `config.keyFile` cannot be
 *   read as an EC P-256 key, or `--auth-public-key` / `--auth-jwks` cannot be read; the message names the flag
 *   and the path.
 */
export async function createAnteroomServer(config: ServerConfig, options: AnteroomServerOptions = {}): Promise<AnteroomServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // With a data dir, the key, the resume secret and the log outlive the process, and the rooms are recovered.
  const durable = await openServerDataDir(config, logger);
  // In a cluster every node signs with the same key and resume secret, kept in NATS.
  const cluster = config.nats ? await ClusterNode.join(config, logger) : null;
  const issuer = await createAdmissionTokenIssuer({ keyFile: config.keyFile ?? durable?.secrets.keyFile, ...(cluster ? { keyPem: cluster.secrets.keyPem } : {}) });
  const parts = assembleParts(config, options, logger, issuer, durable, cluster);
  if (cluster) cluster.onLinkChange = (connected) => tellVisitorsOfLink(parts, connected);
  openStartingRooms(parts, durable);
  durable?.startSnapshots(parts.log, () => [...parts.rooms.values()].map((room) => room.runtime));
  const listeners = createListeners(parts);
  const wss = new WebSocketServer(webSocketOptions(config, parts.closeTimeoutMs));
  const socketHandlers = createSocketHandlers({
    config,
    logger,
    metrics: parts.metrics,
    resumeTokens: parts.resumeTokens,
    floodCloseAfter: options.floodCloseAfter ?? config.rateLimit * 2,
    // The connection counts are given back when the TCP socket closes (see `routeUpgrade`), not here.
    forget: (client) => {
      parts.clients.delete(client.conn);
      parts.rooms.get(client.room.name)?.placesPerIp.release(client.ip);
    },
    placeHeld: (client) => parts.heldPlaces.held(client.room.name, client.session, client.ip),
    chatOf: (client) => parts.rooms.get(client.room.name)?.chat ?? null,
    features: (client) => featuresOf(parts, client.room.name),
  });
  listeners.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    routeUpgrade(parts, request, socket, head, (ws, room, ip, grant) => acceptClient(parts, socketHandlers, ws, room, ip, grant), wss),
  );
  listeners.ops?.on('upgrade', (_request: IncomingMessage, socket: Duplex) => refuseUpgrade(socket, 404, 'not a room path', parts.closeTimeoutMs));
  return serverFacade(parts, listeners);
}

/**
 * The `ws` server's options. `closeTimeout` is how long ws waits for the peer's close frame before it
 * destroys the socket (30 s by default); `ws` 8.23 takes it, its type definitions do not list it yet.
 */
function webSocketOptions(config: ServerConfig, closeTimeoutMs: number): ServerOptions {
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: config.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
    closeTimeout: closeTimeoutMs,
  };
  return options;
}

function assembleParts(config: ServerConfig, options: AnteroomServerOptions, logger: Logger, issuer: AdmissionTokenIssuer, durable: DurableStore | null, cluster: ClusterNode | null): ServerParts {
  const state: ServerParts['state'] = { shuttingDown: false, eventLogFailure: null };
  const rooms = new Map<string, ServedRoom>();
  const handshakes: HandshakeGuard[] = [];
  let metrics: ServerMetrics | null = null;
  const log = openEventLog(config, durable, (error, lost) => {
    if (state.eventLogFailure === null) logger.error({ err: error, path: config.eventLog }, 'event log write failed; records are being lost');
    state.eventLogFailure = error;
    metrics?.eventLogRecordsLost.inc(lost);
  });
  const heldPlaces = new HeldPlaces(log);
  const gate = new UpgradeGate(config, (ip) => heldPlaces.from(ip));
  const arrivals = new ArrivalLine(arrivalSliceMs, (error) => logger.error({ err: error }, 'accepting a connection failed'));
  metrics = new ServerMetrics({
    log,
    rooms,
    openConnections: () => gate.openCount,
    pendingHandshakes: () => handshakes.reduce((sum, guard) => sum + guard.pendingCount, 0),
    arrivalsWaiting: () => arrivals.length,
  });
  const database = databaseParts(config.dataDir);
  return {
    config,
    options,
    logger,
    issuer,
    resumeTokens: createResumeTokens(durable?.secrets.resumeSecret ?? cluster?.secrets.resumeSecret),
    durable,
    ...database,
    signIn: createSignIn(config, durable?.secrets ?? null, logger, database.database),
    cluster,
    log,
    clients: new Map(),
    rooms,
    gate,
    heldPlaces,
    metrics,
    closeTimeoutMs: options.closeTimeoutMs ?? defaultCloseTimeoutMs,
    state,
    handshakes,
    arrivals,
  };
}

/**
 * The server's one handle on `anteroom.db` (accounts and history), opened on first use, so a server without
 * accounts or live rooms never loads the SQLite driver.
 */
function databaseParts(dataDir: string | null): Pick<ServerParts, 'database' | 'history' | 'closeDatabase'> {
  let database: AnteroomDatabase | null = null;
  let history: ChatHistory | null = null;
  const open = (): AnteroomDatabase => (database ??= openAnteroomDatabase(dataDir));
  return {
    database: open,
    history: () => (history ??= new ChatHistory(open())),
    closeDatabase: () => database?.close(),
  };
}

/**
 * The event log, with its JSONL file when `--event-log` names one. The file is opened here, so a path that
 * cannot be opened stops the start; a write that fails later is reported through `onFailure`.
 */
function openEventLog(config: ServerConfig, durable: DurableStore | null, onFailure: (error: Error, lostRecords: number) => void): EventLog {
  if (durable) return new EventLog({ ringSize: config.eventRingSize, sink: durable.sink, lastSeq: durable.recovered.lastSeq });
  if (!config.eventLog) return new EventLog({ ringSize: config.eventRingSize });
  let sink: JsonlSink;
  try {
    sink = JsonlSink.open(config.eventLog, { onError: onFailure });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`--event-log ${config.eventLog}: cannot open the event log for appending (${reason})`, { cause: error });
  }
  // Numbering goes on from the file's last record, so `seq` stays unique in a file appended to across runs.
  return new EventLog({ ringSize: config.eventRingSize, sink, lastSeq: lastSeqInFile(config.eventLog) });
}

/** How a room is opened: by an operator or the configuration, from a data dir's state (at start only), its ticket check. */
interface RoomOpening {
  createdBy?: 'operator';
  recovered?: AdmissionState;
  tickets: TicketVerifier | null;
}

function openRoom(parts: ServerParts, roomConfig: RoomConfig, { createdBy, recovered, tickets }: RoomOpening): ServedRoom {
  const { config, logger, clients } = parts;
  // A data dir's recovered room, or in a cluster the room's last snapshot in the stream.
  const startFrom = recovered ?? parts.cluster?.recoveredRoom(roomConfig.name);
  const rate = new AdmissionRate();
  // The feed, the chat and the runtime refer to each other; the first two are only used after all exist.
  let feed: PositionFeed | null = null;
  let runtime: RoomRuntime | null = null;
  if (createdBy === 'operator') parts.durable?.roomSecrets.set(roomConfig.name, roomConfig.ticketSecret);
  const live = roomConfig.chat ?? config.chat;
  const chat = live ? chatDelivery(parts, roomConfig, () => runtime!) : null;
  runtime = new RoomRuntime({
    // Seats follow visitors to the site by default when the room sends them there.
    settings: { ...roomConfig, siteSessions: roomConfig.siteSessions ?? config.targetUrl !== null, chat: live },
    // A live room's seq goes on after the messages its history already holds.
    ...(live ? { chat: parts.history().seed(roomConfig.name) } : {}),
    log: parts.log,
    createdBy,
    clockFor: () => wallClock,
    recordTimers: true,
    inspect: parts.options.inspect,
    closeTimeoutMs: parts.closeTimeoutMs,
    ...(startFrom ? { recovered: startFrom } : {}),
    ...(parts.cluster ? { forward: (command: AdmissionCommand) => parts.cluster!.forward(roomConfig.name, command) } : {}),
    // An action that throws ends only its own connection: told `internal`, closed with 1011.
    onActorError: (error, conn) => {
      logger.error({ err: error, conn, room: roomConfig.name }, conn === null ? 'the room actor failed' : 'a connection actor failed');
      const client = conn === null ? undefined : clients.get(conn);
      if (client) closeForInternalError(client.ws, 'the server failed to handle this connection');
    },
    effects: commitGated(parts, createSocketEffects({
      room: roomConfig,
      clients,
      issuer: parts.issuer,
      resumeTokens: parts.resumeTokens,
      rate,
      audience: siteOrigin(config),
      outboundBudget: config.outboundBudget,
      logger,
      queueChanged: () => feed?.markDirty(),
      onSend: (message, client) => parts.metrics.sent(message, client.conn),
      overflowed: (client) => tooSlow(parts, client),
      chat,
    })),
  });
  feed = new PositionFeed(runtime, positionSender(parts, runtime, rate), parts.options.positionFeedTiming ?? defaultPositionFeedTiming);
  const cancelOpening = scheduleOpening(runtime, roomConfig.opensAt);
  const cluster = parts.cluster;
  if (!cluster) return { runtime, feed, rate, tickets, placesPerIp: new PlacesPerIp(), cancelOpening, chat };
  cluster.serveRoom(runtime, roomConfig);
  return { runtime, feed, rate, tickets, placesPerIp: new PlacesPerIp(), cancelOpening, chat, owner: () => cluster.ownerOf(roomConfig.name) };
}

/** What a room offers its clients (`hello`): live chat, a durable line, join-ticket priority, site sessions, a cluster. */
function featuresOf(parts: ServerParts, name: string): string[] {
  const room = parts.rooms.get(name);
  if (!room) return [];
  const features: string[] = [];
  if (room.chat !== null) features.push('chat');
  if (parts.durable) features.push('durable');
  if (room.tickets !== null) features.push('priority');
  if (room.runtime.settings.siteSessions) features.push('siteSessions');
  if (parts.cluster) features.push('cluster');
  return features;
}

/** What a node's visitors are told while it has lost the cluster (protocol v2 section 2: it says so). */
export const clusterLinkLostNotice = 'This server lost its link to the cluster: admissions wait until it is back, and every place is kept.';

/**
 * Tells every visitor of this node that it stopped admitting (a `room` message, `paused`, with the notice
 * above) when it loses NATS, and the room as it stands when NATS is back.
 */
function tellVisitorsOfLink(parts: ServerParts, connected: boolean): void {
  const lost: RoomMessage = { type: 'room', status: 'paused', notice: clusterLinkLostNotice };
  for (const room of parts.rooms.values()) {
    // One serialisation per room, shared by its visitors.
    const message = connected ? roomMessage(room.runtime) : lost;
    const json = JSON.stringify(message);
    let sent = 0;
    for (const client of parts.clients.values()) {
      if (client.room !== room.runtime) continue;
      const outcome = sendSerialized(client, json, parts.config.outboundBudget);
      if (outcome === 'sent') sent++;
      else if (outcome === 'overflow') tooSlow(parts, client);
    }
    parts.metrics.sentToMany(message, sent);
  }
}

/** A socket went over its outbound budget: logged, and dropped as an input of its own on the next turn. */
function tooSlow(parts: ServerParts, client: ClientSocket): void {
  parts.logger.warn({ conn: client.conn, session: client.session, room: client.room.name, buffered: client.ws.bufferedAmount }, 'client too slow; dropping it');
  // Reported on the next turn, so the drop is an input of its own in the log, not part of another.
  setImmediate(() => client.room.overflow(client.conn));
}

/** A live room's chat at the edge, on the server's history store. */
function chatDelivery(parts: ServerParts, roomConfig: RoomConfig, runtime: () => RoomRuntime): ChatDelivery {
  return new ChatDelivery(roomConfig.name, {
    runtime,
    clients: parts.clients,
    history: parts.history(),
    historyLimit: roomConfig.historyLimit,
    outboundBudget: parts.config.outboundBudget,
    logger: parts.logger,
    overflowed: (client) => tooSlow(parts, client),
    sent: (message, count) => parts.metrics.sentToMany(message, count),
  });
}

/** A recovered operator room's ticket check: none, logged, when its `ticketJwks` went missing, so the data dir still starts. */
function recoveredTickets(parts: ServerParts, roomConfig: RoomConfig): TicketVerifier | null {
  const checked = checkedTicketVerifier(roomConfig);
  if ('tickets' in checked) return checked.tickets;
  parts.logger.error({ room: roomConfig.name, problem: checked.problem }, 'the room takes no join tickets');
  return null;
}

/**
 * The rooms this start serves: the configured ones, and with a data dir the rooms an operator created at run
 * time, each going on from its recovered state; a room an operator removed stays removed, whatever the
 * configuration says, so a restart never reverts an operator's decision.
 */
function openStartingRooms(parts: ServerParts, durable: DurableStore | null): void {
  const created = durable?.operatorRooms() ?? [];
  // An operator's latest word wins: a configured room they removed and put again keeps the settings they gave.
  const overridden = (name: string) => created.some((room) => room.name === name);
  const configured = parts.config.rooms.filter((room) => !durable?.wasRemoved(room.name) && !overridden(room.name));
  for (const name of parts.config.rooms.map((room) => room.name).filter(overridden)) {
    parts.logger.warn({ room: name }, 'served as an operator put it at run time, not as configured (DELETE and PUT it to change that)');
  }
  for (const roomConfig of configured) {
    // A configured room's unreadable `ticketJwks` stops the start: the operator sees it at once.
    parts.rooms.set(roomConfig.name, openRoom(parts, roomConfig, { recovered: durable?.recoveredRoom(roomConfig), tickets: createTicketVerifier(roomConfig) }));
  }
  for (const roomConfig of created) {
    const opening = { createdBy: 'operator', recovered: durable?.recoveredRoom(roomConfig), tickets: recoveredTickets(parts, roomConfig) } as const;
    parts.rooms.set(roomConfig.name, openRoom(parts, roomConfig, opening));
  }
  for (const room of parts.rooms.values()) durable?.resumeRoom(room.runtime);
  for (const name of parts.config.rooms.filter((room) => durable?.wasRemoved(room.name)).map((room) => room.name)) {
    parts.logger.warn({ room: name }, 'an operator removed this room; it is not served (PUT /api/rooms/<room> brings it back)');
  }
}

/** With a data dir, nothing reaches a client until the records behind it are on disk. */
function commitGated(parts: ServerParts, effects: ConnectionEffects): ConnectionEffects {
  return parts.durable ? gateEffectsOnCommit(effects, parts.durable.sink) : effects;
}

/** The protected site's origin (`--target-url`): the audience of admission tokens and of site sessions. */
function siteOrigin(config: ServerConfig): string | null {
  return config.targetUrl === null ? null : new URL(config.targetUrl).origin;
}

/** Sends a waiter its new place, unless it already has it or reads too slowly to take another update now. */
function positionSender(parts: ServerParts, runtime: RoomRuntime, rate: AdmissionRate): SendPosition {
  const { clients, config, metrics } = parts;
  return (conn, position) => {
    const client = clients.get(conn);
    if (!client || client.sentPosition === position) return 'unchanged';
    // Not yet told its place (its first status waits for the log to be durable): that status comes first.
    if (client.sentPosition === 0) return 'deferred';
    const outcome = sendToClient(
      client,
      queuedStatus(client, position, runtime.queueLength, rate),
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
  };
}

/**
 * The HTTP listeners: one for visitors (WebSockets, the waiting page, health) and, with `--ops-port`, one
 * for operators (dashboard, metrics, rooms, events). Without it, one listener serves both.
 */
function createListeners(parts: ServerParts): Listeners {
  const { config, logger, gate } = parts;
  const pages = createPageRoutes({
    rooms: parts.rooms,
    log: parts.log,
    config,
    logger,
    addressOf: (request) => gate.clientIp(request),
    eventStreams: { maxStreams: config.maxEventStreams },
  });
  const opsReads = new AddressRate(opsReadRate, opsReadBurst);
  const roomSet = createRoomSet(
    parts.rooms,
    (roomConfig, tickets) => openRoom(parts, roomConfig, { createdBy: 'operator', tickets }),
    (name) => parts.durable?.roomSecrets.set(name, undefined),
    parts.cluster ? 'in cluster mode every node serves the rooms of its configuration: add the room to the rooms file of every node' : null,
  );
  const listener = (surface: HttpSurface): Server => {
    const handler = createHttpHandler(httpDeps(parts, surface, pages, opsReads, roomSet));
    return boundedHttpServer(parts, handler);
  };
  const split = config.opsPort !== null;
  const http = listener(split ? 'public' : 'both');
  const ops = split ? listener('ops') : null;
  http.once('close', () => pages.stop());
  return { http, ops, pages };
}

function httpDeps(parts: ServerParts, surface: HttpSurface, pages: PageRoutes, opsReads: AddressRate, roomSet: RunTimeRooms): HttpApiDeps {
  return {
    rooms: parts.rooms,
    log: parts.log,
    issuer: parts.issuer,
    config: parts.config,
    logger: parts.logger,
    isShuttingDown: () => parts.state.shuttingDown,
    notReadyReason: () =>
      parts.state.eventLogFailure ? 'event log write failed' : parts.durable?.sink.failure ? 'data dir write failing' : (parts.cluster?.notReadyReason() ?? null),
    metrics: parts.metrics,
    roomSet,
    // Site pages refresh their seats from the visitors' side; operators' listeners do not serve them.
    extraRoutes: [
      ...(surface === 'ops' ? [pages.routeFor(surface)] : [pages.routeFor(surface), ...visitorRoutes(parts)]),
      ...(parts.cluster && surface !== 'public' ? [clusterRoute(parts.cluster)] : []),
    ],
    surface,
    opsReads,
    addressOf: (request) => parts.gate.clientIp(request),
    committed: () =>
      parts.durable ? durableWithin(parts.durable.sink, adminCommitWaitMs) : parts.cluster ? parts.cluster.settled(adminCommitWaitMs) : Promise.resolve(true),
  };
}

/** The visitors' own API: site sessions and the built-in login. */
function visitorRoutes(parts: ServerParts): NonNullable<HttpApiDeps['extraRoutes']> {
  return [
    createSiteSessionRoutes({ rooms: parts.rooms, issuer: parts.issuer, siteOrigin: siteOrigin(parts.config) }),
    parts.signIn.loginRoutes((request) => parts.gate.clientIp(request)),
  ];
}

/** How long an admin write waits for its records to reach the disk before it answers 503, ms. */
const adminCommitWaitMs = 5000;

/** Whether everything written so far is durable within `ms` (false when the disk is failing). */
function durableWithin(sink: GroupCommitSink, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    sink.afterCommit(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** An HTTP server whose connections are bounded in time and number while they have not sent a request. */
function boundedHttpServer(parts: ServerParts, handler: RequestListener): Server {
  const { config, metrics } = parts;
  const http = createServer(boundRequestTimes(config.handshakeTimeoutMs), handler);
  parts.handshakes.push(
    new HandshakeGuard(http, {
      timeoutMs: config.handshakeTimeoutMs,
      maxPending: config.maxConnections,
      // Behind a proxy every connection comes from the proxy's address; the proxy bounds slow clients.
      maxPendingPerAddress: config.trustProxy ? 0 : config.maxHandshakesPerIp,
      onCut: (reason) => metrics.handshakesCut.inc({ reason }),
    }),
  );
  return http;
}

/**
 * An upgrade request: refused with an HTTP status, or made a WebSocket. Every socket that becomes a
 * WebSocket counts toward the connection limits from this moment until its TCP connection is gone, however
 * it ends: a room's client, an unknown room closed with 4004, a close during shutdown.
 */
function routeUpgrade(
  parts: ServerParts,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  accept: (ws: WebSocket, room: ServedRoom, ip: string, grant: UpgradeGrant) => void,
  wss: WebSocketServer,
): void {
  const { gate, logger, metrics, closeTimeoutMs } = parts;
  socket.on('error', destroySocket);
  if (parts.state.shuttingDown) return refuseUpgrade(socket, 503, 'shutting down', closeTimeoutMs);
  const path = roomFromPath(request.url);
  if (path.kind !== 'room') return refuseUpgrade(socket, 404, 'not a room path', closeTimeoutMs);
  const verdict = gate.check(request);
  if (!verdict.ok) {
    logger.info({ ip: gate.clientIp(request), reason: verdict.reason }, 'upgrade refused');
    metrics.upgradesRefused.inc({ reason: verdict.refusal });
    return refuseUpgrade(socket, verdict.status, verdict.reason, closeTimeoutMs);
  }
  countOpenSocket(gate, socket, verdict.ip);
  // Sign-in and join ticket are checked before any WebSocket exists: refused with 401 (or 503 over the per-user limit).
  void grantUpgrade(parts, request, socket, path.room).then((grant) => {
    if ('refused' in grant) {
      logger.info({ ip: verdict.ip, reason: grant.refused }, 'upgrade refused');
      metrics.upgradesRefused.inc({ reason: grant.status === 401 ? 'unauthorized' : 'max_connections_per_user' });
      return refuseUpgrade(socket, grant.status, grant.refused, closeTimeoutMs);
    }
    parts.arrivals.push(
      () =>
        wss.handleUpgrade(request, socket, head, (ws) => {
          // Accepted first so a browser can read why. While the server stops, the peer has the clients' grace to
          // answer the close, not the close timeout: shutdown waits for this socket too.
          if (parts.state.shuttingDown) return closeWithoutRoom(ws, parts.durable ? 'restart' : 'shutdown', shutdownGraceMs);
          const room = parts.rooms.get(path.room);
          if (!room) return closeWithoutRoom(ws, 'unknownRoom');
          try {
            accept(ws, room, verdict.ip, grant);
          } catch (error) {
            // Not left open with no actor to answer it: closed as an internal error (its close gives back what
            // it counted), and the arrival line logs why.
            ws.on('error', () => {});
            closeForInternalError(ws, 'the server could not take this connection');
            throw error;
          }
        }),
      returningToHeldPlace(parts, path.room, grant),
    );
  }).catch((error: unknown) => {
    // Nothing known throws here; if anything does, the socket is not left half-accepted.
    logger.error({ err: error }, 'upgrade failed');
    socket.destroy();
  });
}

/**
 * For an upgrade presenting a resume token for a seat or place the room would give back to it, whether it
 * still would (asked again when its turn in the returning lane comes); undefined for any other upgrade.
 */
function returningToHeldPlace(parts: ServerParts, room: string, grant: UpgradeGrant): (() => boolean) | undefined {
  const session = grant.resume;
  if (session === undefined || session === null) return undefined;
  const stillReturning = () => parts.rooms.get(room)?.runtime.takesBack(session, grant.identity) ?? false;
  return stillReturning() ? stillReturning : undefined;
}

/**
 * What an upgrade was granted: the session its resume token names (null for a token that is not valid,
 * undefined when none was presented), its join-ticket priority, and identity (undefined for a guest).
 */
interface UpgradeGrant {
  resume: string | null | undefined;
  priority: number;
  identity: Identity | undefined;
}

/**
 * Checks an upgrade's sign-in and join ticket, then counts it toward its user's connections (given back when
 * the TCP socket closes). Refused: 401 for a missing or bad token when one is required, or a bad ticket; 503
 * when the user already has `--max-connections-per-user` open.
 */
async function grantUpgrade(parts: ServerParts, request: IncomingMessage, socket: Duplex, room: string): Promise<UpgradeGrant | { refused: string; status: 401 | 503 }> {
  const signedIn = await parts.signIn.identify(request);
  if ('refused' in signedIn) return { refused: signedIn.refused, status: 401 };
  const priority = ticketFromUrl(request.url) === null ? 0 : await priorityForUpgrade(parts.rooms.get(room)?.tickets ?? null, request.url);
  if (priority === null) return { refused: 'join ticket refused', status: 401 };
  const identity = 'identity' in signedIn ? signedIn.identity : undefined;
  // The peer left while the checks ran: nothing to count, and no one to answer.
  if (socket.destroyed) return { refused: 'gone', status: 503 };
  if (identity !== undefined) {
    const perUser = parts.signIn.connectionsPerUser;
    if (!perUser.take(identity.user)) return { refused: 'too many connections for this user', status: 503 };
    releaseOnClose(socket, perUser, identity.user);
  }
  const resumeToken = resumeTokenFromUrl(request.url);
  // Read once here: the arrival line and the room both go by the session it names.
  return { resume: resumeToken === null ? undefined : parts.resumeTokens.read(room, resumeToken), priority, identity };
}

/**
 * Counts `socket` open for `ip` until its TCP connection is gone. Its listener is made here, not in
 * `routeUpgrade`, so it holds the address alone: a closure there would keep the whole upgrade request
 * (headers, URL, stream state: over 1 KiB) alive for as long as the connection lasts.
 */
function countOpenSocket(gate: UpgradeGate, socket: Duplex, ip: string): void {
  gate.opened(ip);
  // `on`, not `once`: close comes once anyway, and `once` would add a wrapper for as long as the socket lives.
  socket.on('close', () => gate.closed(ip));
}

/** Gives `user`'s connection back when `socket` closes; made here for the reason given at `countOpenSocket`. */
function releaseOnClose(socket: Duplex, perUser: ConnectionsPerUser, user: string): void {
  socket.on('close', () => perUser.release(user));
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

/**
 * Closes a WebSocket that never joins a room. It still reads the peer's frames until the close completes, and
 * what the peer sends may be refused by `ws` (too large, bad UTF-8, a protocol error): that error is this
 * socket's alone, so it is caught here, never left to end the process. `cutAfterMs`: the socket is cut if the
 * peer has not finished the close by then (ms), sooner than `ws`'s close timeout.
 */
function closeWithoutRoom(ws: WebSocket, reason: 'unknownRoom' | 'shutdown' | 'restart' | 'placesPerIp', cutAfterMs?: number): void {
  ws.on('error', () => {});
  closeWith(ws, reason);
  if (cutAfterMs === undefined) return;
  const cut = setTimeout(() => ws.terminate(), cutAfterMs);
  ws.once('close', () => clearTimeout(cut));
}

/** Registers a new socket in its room: it gets a session, a resume token and its place. */
function acceptClient(parts: ServerParts, handlers: SocketHandlers, ws: WebSocket, room: ServedRoom, ip: string, grant: UpgradeGrant): void {
  const { resume, priority, identity } = grant;
  // In a cluster a connection id names its node, so the room's owner can tell whose sessions a dead node held.
  const conn = (parts.cluster?.connPrefix ?? '') + nanoid(12);
  const session = nanoid();
  const client: ClientSocket = {
    conn,
    ws,
    room: room.runtime,
    ip,
    session,
    resumeToken: parts.resumeTokens.mint(room.runtime.name, session),
    sentPosition: 0,
    tokenRefresh: null,
    overflowed: false,
    chatWelcomed: false,
    bucket: new TokenBucket(parts.config.rateLimit, parts.config.rateLimit * 2, Date.now()),
    priority,
  };
  // Refused before it is placed, like an unknown room: the log never sees it.
  // Places held for the address's dropped connections count too, or dropping would get round the limit.
  const held = parts.heldPlaces.inRoomFrom(room.runtime.name, ip);
  if (!room.placesPerIp.take(ip, room.runtime.settings.maxPlacesPerIp, held)) return closeWithoutRoom(ws, 'placesPerIp');
  // Attached at once: from here the socket's close gives the place and the client entry back (see `forget`).
  parts.clients.set(conn, client);
  handlers.attach(client);
  parts.logger.debug({ conn, session, room: room.runtime.name, ip }, 'connected');
  // A resume token in the URL names the place asked for, so a full line cannot turn its owner away.
  room.runtime.connect(conn, session, resume, priority, identity);
}

function serverFacade(parts: ServerParts, listeners: Listeners): AnteroomServer {
  const { config } = parts;
  return {
    http: listeners.http,
    ops: listeners.ops,
    log: parts.log,
    rooms: parts.rooms,
    clients: parts.clients,
    gate: parts.gate,
    metrics: parts.metrics,
    issuer: parts.issuer,
    logger: parts.logger,
    config,
    get shuttingDown() {
      return parts.state.shuttingDown;
    },
    async listen() {
      const main = await listenOn(listeners.http, config.host, config.port);
      const url = `ws://${main.host}:${main.port}`;
      await parts.cluster?.start(() => ({ address: url, connections: parts.clients.size }));
      if (!listeners.ops) return { host: config.host, port: main.port, url };
      const ops = await listenOn(listeners.ops, config.opsHost, config.opsPort ?? 0);
      return { host: config.host, port: main.port, url, opsUrl: `http://${ops.host}:${ops.port}` };
    },
    close: () => shutDown(parts, listeners),
  };
}

/** Resolves with the bound port and the host as it goes in a URL (IPv6 in brackets). */
function listenOn(http: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen({ port, host, backlog: listenBacklog }, () => {
      http.off('error', reject);
      const address = http.address();
      resolve({ host: host.includes(':') ? `[${host}]` : host, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}

/** Graceful stop: see `AnteroomServer.close`. A second call does nothing. */
async function shutDown(parts: ServerParts, listeners: Listeners): Promise<void> {
  if (parts.state.shuttingDown) return;
  parts.state.shuttingDown = true;
  const servers = [listeners.http, ...(listeners.ops ? [listeners.ops] : [])];
  const closedHttp = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  for (const guard of parts.handshakes) guard.close();
  // Dashboards reconnect elsewhere; their streams would otherwise hold the listeners open.
  listeners.pages.stop();
  await evictEveryone(parts);
  for (const server of servers) server.closeAllConnections();
  await closedHttp;
  for (const room of parts.rooms.values()) {
    room.cancelOpening();
    room.feed.stop();
    room.runtime.stop();
  }
  parts.metrics.close();
  parts.heldPlaces.stop();
  await parts.cluster?.close();
  await parts.log.close();
  parts.closeDatabase();
  await parts.durable?.close();
  parts.logger.info('stopped');
  parts.logger.flush?.();
}

/** Every room closes with reason `shutdown` (1001); clients get `shutdownGraceMs` to finish, then are cut. */
async function evictEveryone(parts: ServerParts): Promise<void> {
  const open = [...parts.clients.values()];
  const allClosed = Promise.all(
    open.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === client.ws.CLOSED) return resolve();
          client.ws.once('close', () => resolve());
        }),
    ),
  );
  // With a data dir the line is kept: places and seats are held (close 1012), not ended (1001). In a cluster
  // the room goes on without this node: its sessions are held for a resume on another node.
  if (parts.cluster) await parts.cluster.leave(new Map([...parts.rooms.values()].map((room) => [room.runtime.name, [...room.runtime.connectionIds()]])));
  for (const room of parts.rooms.values()) {
    if (parts.cluster) continue;
    if (parts.durable) room.runtime.holdForRestart();
    else room.runtime.shutdown();
  }
  const grace = setTimeout(() => {
    for (const client of parts.clients.values()) client.ws.terminate();
  }, shutdownGraceMs);
  await allClosed;
  clearTimeout(grace);
}

/**
 * Answers an upgrade with an HTTP refusal and ends the connection. A peer that does not read the answer or
 * close its side is cut after `closeTimeoutMs`, so a refused socket cannot be held open either.
 */
function refuseUpgrade(socket: Duplex, status: number, reason: string, closeTimeoutMs: number): void {
  const text = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  const cut = setTimeout(() => socket.destroy(), closeTimeoutMs);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}
