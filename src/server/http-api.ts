import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { maxNoticeLength } from '../../machines/admission/admission-types.js';
import { describeRange, isInRange, roomSettingRanges } from '../config/rooms-file.js';
import type { ServerConfig } from '../config/server-config.js';
import type { EventLog } from '../log/event-log.js';
import { openCommand } from '../rooms/room-opening.js';
import type { RoomAdminCommand } from '../rooms/room-runtime.js';
import type { AdmissionTokenIssuer } from '../tokens/admission-tokens.js';
import type { ServedRoom } from './anteroom-server.js';
import { putRoom, type RunTimeRooms } from './run-time-rooms.js';

export interface HttpApiDeps {
  rooms: ReadonlyMap<string, ServedRoom>;
  log: EventLog;
  issuer: AdmissionTokenIssuer;
  config: ServerConfig;
  logger: Logger;
  isShuttingDown: () => boolean;
  /** Prometheus text for GET /metrics; without it /metrics is not served. */
  metrics?: { readonly contentType: string; render(): Promise<string> };
  /** Creating and removing rooms at run time (`PUT`/`DELETE /api/rooms/<room>`); without it they answer 405. */
  roomSet?: RunTimeRooms;
  /** Extra routes (pages, metrics) tried before the API answers 404. Returns true when it answered. */
  extraRoutes?: ((request: IncomingMessage, response: ServerResponse, path: string) => boolean | Promise<boolean>)[];
}

/** Largest admin request body accepted. */
const maxBodyBytes = 16 * 1024;

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
    maxQueue: runtime.maxQueue,
  };
}

/** The HTTP side: health, room state, the event tail, the JWKS, and bearer-protected admin writes. */
export function createHttpHandler(deps: HttpApiDeps) {
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
    if (path === '/readyz') {
      return deps.isShuttingDown() ? json(response, 503, { ready: false, reason: 'shutting down' }) : json(response, 200, { ready: true });
    }
    if (path === '/metrics' && method === 'GET' && deps.metrics) {
      const text = await deps.metrics.render();
      response.writeHead(200, { 'content-type': deps.metrics.contentType, 'content-length': Buffer.byteLength(text) });
      return void response.end(text);
    }
    if (path === '/.well-known/jwks.json') {
      response.setHeader('cache-control', 'public, max-age=300');
      return json(response, 200, deps.issuer.jwks());
    }
    if (path === '/api/rooms' && method === 'GET') {
      return json(response, 200, { rooms: [...deps.rooms.values()].map(roomView) });
    }
    const roomMatch = /^\/api\/rooms\/([^/]+)(\/kick)?$/.exec(path);
    if (roomMatch) {
      if (!roomMatch[2] && (method === 'PUT' || method === 'DELETE') && deps.roomSet) return roomSetWrite(deps, request, response, decodeURIComponent(roomMatch[1]!), deps.roomSet);
      const room = deps.rooms.get(decodeURIComponent(roomMatch[1]!));
      if (!room) return json(response, 404, { error: 'unknown_room' });
      if (method === 'GET' && !roomMatch[2]) return json(response, 200, roomView(room));
      if (method === 'POST') return adminWrite(request, response, room, roomMatch[2] ? 'kick' : 'config');
      return json(response, 405, { error: 'method_not_allowed' });
    }
    if (path === '/api/events' && method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '1000');
      if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        return json(response, 400, { error: 'bad_request', message: 'after must be a whole number >= 0, limit 1..10000' });
      }
      return json(response, 200, { lastSeq: deps.log.lastSeq, events: deps.log.since(after, limit) });
    }
    for (const extra of deps.extraRoutes ?? []) {
      if (await extra(request, response, path)) return;
    }
    json(response, 404, { error: 'not_found' });
  }

  async function adminWrite(request: IncomingMessage, response: ServerResponse, room: ServedRoom, what: 'kick' | 'config') {
    if (!adminAllowed(deps, request, response)) return;
    const body = await readJsonBody(request);
    if (body === undefined) return json(response, 400, { error: 'bad_json' });
    const commands = what === 'kick' ? kickCommands(body) : configCommands(body);
    if (typeof commands === 'string') return json(response, 400, { error: 'invalid_request', message: commands });
    const kicked = commands[0]?.type === 'kick' ? commands[0].session : null;
    if (kicked !== null && !room.runtime.holdsSession(kicked)) {
      return json(response, 404, { error: 'unknown_session', message: 'no seat or place in this room has that session' });
    }
    for (const command of commands) room.runtime.configure(command.type === 'open' ? openCommand(room.runtime) : command);
    deps.logger.info({ room: room.runtime.name, commands }, 'room changed by operator');
    return json(response, 200, roomView(room));
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
    return json(response, 200, { removed: name });
  }
  const body = await readJsonBody(request);
  if (body === undefined) return json(response, 400, { error: 'bad_json' });
  const outcome = putRoom(roomSet, name, body);
  if ('error' in outcome) return json(response, outcome.status, { error: outcome.error, message: outcome.message });
  deps.logger.info({ room: name, created: outcome.status === 201 }, 'room put by operator');
  return json(response, outcome.status, roomView(outcome.room));
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

/** The command for one field of an admin change, or why the value is refused. */
function configCommand(field: (typeof configFields)[number], value: unknown): RoomAdminCommand | string {
  const wholeNumber = Number.isSafeInteger(value) && (value as number) >= 0;
  switch (field) {
    case 'capacity':
      return wholeNumber ? { type: 'setCapacity', capacity: value as number } : 'capacity must be a whole number >= 0';
    case 'maxQueue':
      return wholeNumber ? { type: 'setMaxQueue', maxQueue: value as number } : 'maxQueue must be a whole number >= 0';
    case 'admissionRate': {
      const range = roomSettingRanges.admissionRate;
      return isInRange(value, range) ? { type: 'setAdmissionRate', admissionRate: value } : `admissionRate must be ${describeRange(range)}`;
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

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
