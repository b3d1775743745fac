import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import type { EventLog } from '../log/event-log.js';
import type { ServedRoom } from '../server/anteroom-server.js';
import { normalizeOrigin, originAllowed } from '../server/upgrade-gate.js';
import { browserClientBundle } from './client-bundle.js';
import { EventStreamHub, type EventStreamOptions } from './event-stream.js';
import { RoomActivity } from './room-activity.js';

export interface PageRoutesDeps {
  rooms: ReadonlyMap<string, ServedRoom>;
  log: EventLog;
  config: Pick<ServerConfig, 'targetUrl' | 'allowedOrigins'>;
  logger?: Logger;
  /** The client address a request comes from, for the per-address cap on event streams. */
  addressOf?: (request: IncomingMessage) => string;
  /** Caps and pacing of `/api/events/stream`. */
  eventStreams?: EventStreamOptions;
}

/** What a route answers on a listener: the visitors' pages, the operators' pages, or both. */
export type PageSurface = 'public' | 'ops' | 'both';

type PageRoute = (request: IncomingMessage, response: ServerResponse, path: string) => Promise<boolean>;

export interface PageRoutes {
  /** An `extraRoutes` entry for the HTTP API: answers the pages, their assets and the dashboard's stream. */
  route: PageRoute;
  /** The same routes, limited to one surface: `public` (waiting page, client), `ops` (dashboard, stream). */
  routeFor(surface: PageSurface): PageRoute;
  /** Event streams open now. */
  readonly streamCount: number;
  /** Stops the dashboard's sampling and ends every event stream. */
  stop(): void;
}

const opsFiles = new Set(['/assets/dashboard.js']);
const sharedFiles = new Set(['/assets/pages.css', '/favicon.ico']);

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

/** Scripts only from this origin; the page talks to this origin over HTTP and WebSocket. */
const pagePolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The browser side of the server: the waiting page (`/`, `?room=<name>`), the operators' dashboard
 * (`/dashboard`), their scripts and styles, the client library bundled for browsers (`/assets/client.js`),
 * and the dashboard's live feed (`/api/events/stream`). The client bundle is built when the routes are made.
 */
export function createPageRoutes(deps: PageRoutesDeps): PageRoutes {
  const waitingHtml = asset('waiting.html').replace('__ANTEROOM_CONFIG__', inlineJson({ targetUrl: deps.config.targetUrl }));
  const files: Record<string, { type: string; body: string }> = {
    '/assets/waiting-page.js': { type: 'text/javascript; charset=utf-8', body: asset('waiting-page.js') },
    '/assets/room-view.js': { type: 'text/javascript; charset=utf-8', body: asset('room-view.js') },
    '/assets/dashboard.js': { type: 'text/javascript; charset=utf-8', body: asset('dashboard.js') },
    '/assets/pages.css': { type: 'text/css; charset=utf-8', body: asset('pages.css') },
  };
  const dashboardHtml = asset('dashboard.html');
  const activity = new RoomActivity(deps.log, deps.rooms);
  browserClientBundle().catch((error: unknown) => deps.logger?.error({ err: error }, 'could not bundle the browser client'));

  const allowlist = deps.config.allowedOrigins === null ? null : new Set(deps.config.allowedOrigins);
  const streams = new EventStreamHub(deps.log, activity, deps.eventStreams);
  const addressOf = deps.addressOf ?? ((request: IncomingMessage) => request.socket.remoteAddress ?? 'unknown');

  async function answer(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    if (path === '/' || path === '/index.html') return page(response, waitingHtml);
    if (path === '/dashboard') return page(response, dashboardHtml);
    if (path === '/api/events/stream' && request.method === 'GET') {
      streams.serve(request, response, addressOf(request));
      return true;
    }
    if (path === '/assets/client.js') {
      let bundle: string;
      try {
        bundle = await browserClientBundle();
      } catch {
        send(response, 503, 'text/plain; charset=utf-8', 'the client bundle could not be built; see the server log');
        return true;
      }
      send(response, 200, 'text/javascript; charset=utf-8', bundle);
      return true;
    }
    const file = files[path];
    if (file) {
      send(response, 200, file.type, file.body);
      return true;
    }
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return true;
    }
    return false;
  }

  const routeFor = (surface: PageSurface): PageRoute => async (request, response, path) => {
    // The waiting page asks whether its origin may connect: a visitors' route.
    if (path === '/api/connect-check' && request.method === 'POST' && surface !== 'ops') return connectCheck(request, response, allowlist);
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    if (surface !== 'both' && !sharedFiles.has(path) && isOpsPath(path) !== (surface === 'ops')) return false;
    return answer(request, response, path);
  };

  return {
    route: routeFor('both'),
    routeFor,
    get streamCount() {
      return streams.streamCount;
    },
    stop: () => {
      streams.stop();
      activity.stop();
    },
  };
}

/** The operators' pages: served on the ops listener when there is one, never beside the waiting page. */
function isOpsPath(path: string): boolean {
  return path === '/dashboard' || path === '/api/events/stream' || opsFiles.has(path);
}

/**
 * `POST /api/connect-check`: would this page's WebSocket upgrade pass the origin policy? A browser hides why
 * an upgrade failed, so the waiting page asks here when its connections keep failing before they open, and
 * stops with a message when the answer is a 403 rather than retrying forever. A POST, because browsers send
 * `Origin` on it as they do on the upgrade.
 */
function connectCheck(request: IncomingMessage, response: ServerResponse, allowlist: ReadonlySet<string> | null): true {
  const origin = request.headers.origin;
  const allowed = originAllowed(origin, request.headers.host, allowlist);
  const body = allowed
    ? { allowed: true }
    : {
        allowed: false,
        origin: normalizeOrigin(origin),
        message: 'This waiting room does not accept connections from this page’s address (see --allowed-origins).',
      };
  send(response, allowed ? 200 : 403, 'application/json; charset=utf-8', JSON.stringify(body));
  return true;
}

function page(response: ServerResponse, html: string): true {
  response.setHeader('content-security-policy', pagePolicy);
  response.setHeader('referrer-policy', 'no-referrer');
  send(response, 200, 'text/html; charset=utf-8', html);
  return true;
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** JSON that is safe inside a <script> element. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
