import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { roomNamePattern } from '../config/rooms-file.js';
import { roomSettingProblem } from '../config/room-settings.js';
import { seatsAwayCount } from '../../machines/admission/admission-state.js';
import { maxNoticeLength } from '../../machines/admission/admission-types.js';
import type { ServerConfig } from '../config/server-config.js';
import type { EventLog } from '../log/event-log.js';
import { openCommand } from '../rooms/room-opening.js';
import type { RoomAdminCommand } from '../rooms/room-runtime.js';
import type { AdmissionTokenIssuer } from '../tokens/admission-tokens.js';
import type { AddressRate } from './address-rate.js';
import type { ServedRoom } from './anteroom-server.js';
import { putRoom, type RunTimeRooms } from './run-time-rooms.js';

/** What a listener answers: the visitors' side, the operators' side, or both on one port. */
export type HttpSurface = 'public' | 'ops' | 'both';

export interface HttpApiDeps {
  rooms: ReadonlyMap<string, ServedRoom>;
  log: EventLog;
  issuer: AdmissionTokenIssuer;
  config: ServerConfig;
  logger: Logger;
  isShuttingDown: () => boolean;
  /** Why the server is not ready beyond shutting down (an event log that cannot be written), or null. */
  notReadyReason?: () => string | null;
  /** Prometheus text for GET /metrics; without it /metrics is not served. */
  metrics?: { readonly contentType: string; render(): Promise<string> };
  /** Creating and removing rooms at run time (`PUT`/`DELETE /api/rooms/<room>`); without it they answer 405. */
  roomSet?: RunTimeRooms;
  /** Extra routes (pages, metrics) tried before the API answers 404. Returns true when it answered. */
  extraRoutes?: ((request: IncomingMessage, response: ServerResponse, path: string) => boolean | Promise<boolean>)[];
  /** Which endpoints this listener serves; 'both' by default. Health and readiness are on every listener. */
  surface?: HttpSurface;
  /** Per-address rate of the costly operator reads (event pages, new event streams, metrics); over it, 429. */
  opsReads?: AddressRate;
  /** The client address of a request, for `opsReads`. */
  addressOf?: (request: IncomingMessage) => string;
  /**
   * Whether every record appended so far became durable in time (with a data dir): admin writes answer after
   * it, 503 `not_durable` when it did not.
   */
  committed?: () => Promise<boolean>;
}

/** Largest admin request body accepted. */
const maxBodyBytes = 16 * 1024;

/** Most records one `GET /api/events` answers (about 90 bytes each), and how many when `limit` is not given. */
export const maxEventsPage = 1000;
const defaultEventsPage = 100;

export function roomView(room: ServedRoom) {
  const runtime = room.runtime;
  return {
    name: room.runtime.name,
    status: runtime.status,
    notice: runtime.notice,
    capacity: runtime.capacity,
    admissionRate: runtime.admission.admissionRate,
    active: runtime.activeCount,
    queued: runtime.queueLength,
    held: runtime.heldCount,
    away: seatsAwayCount(runtime.admission),
    maxQueue: runtime.maxQueue,
    ...(room.owner ? { owner: room.owner() } : {}),
  };
}

/**
 * The HTTP side: health, readiness, the JWKS, and the operators' side (metrics, room state, the event tail,
 * bearer-protected admin writes). Returns a request listener for `http.createServer`; it never throws, and
 * answers 500 only for a fault of the server's own.
 */
export function createHttpHandler(deps: HttpApiDeps) {
  const surface = deps.surface ?? 'both';
  const servesOps = surface !== 'public';
  const servesPublic = surface !== 'ops';
  const opsRoute = createOpsRoutes(deps);
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      await route(request, response);
    } catch (error) {
      deps.logger.error({ err: error, url: request.url }, 'http handler failed');
      if (!response.headersSent) json(response, 500, { error: 'internal' });
      else response.destroy();
    }
  };

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = request.method ?? 'GET';

    if (path === '/healthz') return json(response, 200, { ok: true });
    if (path === '/readyz') return readiness(response);
    if (servesPublic && path === '/.well-known/jwks.json') {
      response.setHeader('cache-control', 'public, max-age=300');
      return json(response, 200, deps.issuer.jwks());
    }
    if (servesOps && isOpsRead(path, method) && overOpsRate(request, response)) return;
    if (servesOps && (await opsRoute(request, response, url, method))) return;
    for (const extra of deps.extraRoutes ?? []) {
      if (await extra(request, response, path)) return;
    }
    json(response, 404, { error: 'not_found' });
  }

  function readiness(response: ServerResponse): void {
    const reason = deps.isShuttingDown() ? 'shutting down' : (deps.notReadyReason?.() ?? null);
    return reason === null ? json(response, 200, { ready: true }) : json(response, 503, { ready: false, reason });
  }

  /** Spends one of the address's operator reads; true when it was over its rate and got 429. */
  function overOpsRate(request: IncomingMessage, response: ServerResponse): boolean {
    if (!deps.opsReads) return false;
    const address = deps.addressOf?.(request) ?? request.socket.remoteAddress ?? 'unknown';
    const waitMs = deps.opsReads.take(address, Date.now());
    if (waitMs === 0) return false;
    response.setHeader('retry-after', String(Math.ceil(waitMs / 1000)));
    json(response, 429, { error: 'too_many_requests', retryAfterMs: waitMs });
    return true;
  }
}

/**
 * The operators' endpoints: metrics, room state and admin writes, the event tail. The returned route
 * answers true when the path was one of them.
 */
function createOpsRoutes(deps: HttpApiDeps) {
  return opsRoute;

  async function opsRoute(request: IncomingMessage, response: ServerResponse, url: URL, method: string): Promise<boolean> {
    const path = url.pathname;
    if (path === '/metrics' && method === 'GET' && deps.metrics) {
      const text = await deps.metrics.render();
      response.writeHead(200, { 'content-type': deps.metrics.contentType, 'content-length': Buffer.byteLength(text) });
      response.end(text);
      return true;
    }
    if (path === '/api/rooms' && method === 'GET') {
      json(response, 200, { rooms: [...deps.rooms.values()].map(roomView) });
      return true;
    }
    const roomMatch = /^\/api\/rooms\/([^/]+)(\/kick)?$/.exec(path);
    if (roomMatch) {
      await roomRoute(request, response, roomMatch[1]!, roomMatch[2] ? 'kick' : 'config', method);
      return true;
    }
    if (path === '/api/events' && method === 'GET') {
      eventsPage(response, url);
      return true;
    }
    return false;
  }

  async function roomRoute(request: IncomingMessage, response: ServerResponse, encoded: string, what: 'kick' | 'config', method: string) {
    const name = decodePathSegment(encoded);
    if (name === null) return json(response, 400, { error: 'bad_request', message: 'the room name is not valid percent-encoding' });
    if (what === 'config' && (method === 'PUT' || method === 'DELETE') && deps.roomSet) return roomSetWrite(deps, request, response, name, deps.roomSet);
    const room = roomNamePattern.test(name) ? deps.rooms.get(name) : undefined;
    if (!room) return json(response, 404, { error: 'unknown_room' });
    if (method === 'GET' && what === 'config') return json(response, 200, roomView(room));
    if (method === 'POST') return adminWrite(request, response, room, what);
    return json(response, 405, { error: 'method_not_allowed' });
  }

  function eventsPage(response: ServerResponse, url: URL): void {
    const after = Number(url.searchParams.get('after') ?? '0');
    const limit = Number(url.searchParams.get('limit') ?? String(defaultEventsPage));
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > maxEventsPage) {
      return json(response, 400, { error: 'bad_request', message: `after must be a whole number >= 0, limit 1..${maxEventsPage}` });
    }
    json(response, 200, { lastSeq: deps.log.lastSeq, events: deps.log.since(after, limit) });
  }

  async function adminWrite(request: IncomingMessage, response: ServerResponse, room: ServedRoom, what: 'kick' | 'config') {
    if (!adminAllowed(deps, request, response)) return;
    const read = await readJsonBody(request);
    if ('refused' in read) return json(response, read.refused === 'too_large' ? 413 : 400, { error: read.refused });
    const body = read.value;
    const commands = what === 'kick' ? kickCommands(body) : configCommands(body);
    if (typeof commands === 'string') return json(response, 400, { error: 'invalid_request', message: commands });
    const kicked = commands[0]?.type === 'kick' ? commands[0].session : null;
    if (kicked !== null && !room.runtime.holdsSession(kicked)) {
      return json(response, 404, { error: 'unknown_session', message: 'no seat or place in this room has that session' });
    }
    for (const command of commands) room.runtime.configure(command.type === 'open' ? openCommand(room.runtime) : command);
    deps.logger.info({ room: room.runtime.name, commands }, 'room changed by operator');
    if (!(await durable(deps, response))) return;
    return json(response, 200, roomView(room));
  }
}

/**
 * The operators' reads that cost the server real work: a page of records, a new event stream (with its
 * snapshot), a metrics scrape. Anyone can ask for them, so each address gets a rate; room counts are cheap.
 */
function isOpsRead(path: string, method: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return path === '/api/events' || path === '/api/events/stream' || path === '/metrics';
}

/** `decodeURIComponent`, or null for text that is not valid percent-encoded UTF-8 (`%`, `%E0%A4%A`). */
export function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Answers 403 or 401 and returns false unless the request carries the admin token. */
function adminAllowed(deps: HttpApiDeps, request: IncomingMessage, response: ServerResponse): boolean {
  if (!deps.config.adminToken) json(response, 403, { error: 'admin_disabled', message: 'start the server with --admin-token to enable writes' });
  else if (!bearerMatches(request.headers.authorization, deps.config.adminToken)) json(response, 401, { error: 'unauthorized' });
  else return true;
  return false;
}

async function roomSetWrite(deps: HttpApiDeps, request: IncomingMessage, response: ServerResponse, name: string, roomSet: RunTimeRooms) {
  if (!adminAllowed(deps, request, response)) return;
  if (request.method === 'DELETE') {
    if (!roomSet.rooms.has(name)) return json(response, 404, { error: 'unknown_room' });
    roomSet.remove(name);
    deps.logger.info({ room: name }, 'room removed by operator');
    if (!(await durable(deps, response))) return;
    return json(response, 200, { removed: name });
  }
  const read = await readJsonBody(request);
  if ('refused' in read) return json(response, read.refused === 'too_large' ? 413 : 400, { error: read.refused });
  const outcome = putRoom(roomSet, name, read.value);
  if ('error' in outcome) return json(response, outcome.status, { error: outcome.error, message: outcome.message });
  deps.logger.info({ room: name, created: outcome.status === 201 }, 'room put by operator');
  if (!(await durable(deps, response))) return;
  return json(response, outcome.status, roomView(outcome.room));
}

/** Waits for an admin write to be durable; answers 503 and returns false when the disk did not take it in time. */
async function durable(deps: HttpApiDeps, response: ServerResponse): Promise<boolean> {
  if (deps.committed === undefined || (await deps.committed())) return true;
  json(response, 503, { error: 'not_durable', message: 'the change is made but the data dir cannot be written yet; it is written once the disk takes it' });
  return false;
}

/** Room fields `POST /api/rooms/<room>` accepts, in the order their commands are carried out. */
const configFields = ['capacity', 'maxQueue', 'admissionRate', 'notice', 'status'] as const;

const statusCommands: Record<string, RoomAdminCommand> = {
  open: { type: 'open' },
  paused: { type: 'pause' },
  maintenance: { type: 'maintenance' },
  closed: { type: 'close' },
};

function configCommands(body: unknown): RoomAdminCommand[] | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(configFields as readonly string[]).includes(key)) return `unknown field "${key}"`;
  }
  const commands: RoomAdminCommand[] = [];
  for (const field of configFields) {
    if (!(field in fields)) continue;
    const command = configCommand(field, fields[field]);
    if (typeof command === 'string') return command;
    commands.push(command);
  }
  if (commands.length === 0) return 'nothing to change: give capacity, maxQueue, admissionRate, notice or status';
  return commands;
}

/** The command for one field of an admin change, or why the value is refused (the room settings' own rules). */
function configCommand(field: (typeof configFields)[number], value: unknown): RoomAdminCommand | string {
  switch (field) {
    case 'capacity':
    case 'maxQueue':
    case 'admissionRate': {
      const problem = roomSettingProblem(field, value);
      if (problem !== null) return problem;
      const number = value as number;
      if (field === 'capacity') return { type: 'setCapacity', capacity: number };
      return field === 'maxQueue' ? { type: 'setMaxQueue', maxQueue: number } : { type: 'setAdmissionRate', admissionRate: number };
    }
    case 'notice':
      if (value === null || (typeof value === 'string' && value.length <= maxNoticeLength)) return { type: 'setNotice', notice: value === '' ? null : value };
      return `notice must be a string of at most ${maxNoticeLength} characters, or null`;
    case 'status':
      return typeof value === 'string' && Object.hasOwn(statusCommands, value)
        ? statusCommands[value]!
        : 'status must be "open", "paused", "maintenance" or "closed"';
  }
}

function kickCommands(body: unknown): RoomAdminCommand[] | string {
  const session = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).session : undefined;
  if (typeof session !== 'string' || session === '' || session.length > 128) return 'session must be a non-empty string';
  return [{ type: 'kick', session }];
}

/**
 * Whether the Authorization `header` carries `Bearer <token>`. Both sides are hashed first (SHA-256), so the
 * comparison is constant-time over equal-length digests and says nothing about the token's length.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  const given = createHash('sha256').update(match ? match[1]! : '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

/**
 * A request body as JSON: its value, or `too_large` (over `limit` bytes, by default `maxBodyBytes`), `bad_json`,
 * or `aborted` (the client went away before the body's end: its doing, not a fault of the server).
 */
export async function readJsonBody(request: IncomingMessage, limit = maxBodyBytes): Promise<{ value: unknown } | { refused: 'too_large' | 'bad_json' | 'aborted' }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > limit) return { refused: 'too_large' };
      chunks.push(chunk as Buffer);
    }
  } catch {
    return { refused: 'aborted' };
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { refused: 'bad_json' };
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
