import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdmissionTokenIssuer, VerifiedAdmission } from '../tokens/admission-tokens.js';
import type { ServedRoom } from './anteroom-server.js';
import { json } from './http-api.js';

export interface SiteSessionsDeps {
  rooms: ReadonlyMap<string, ServedRoom>;
  issuer: AdmissionTokenIssuer;
  /** The protected site's origin: the one origin allowed to call these routes from a browser (CORS). */
  siteOrigin: string | null;
}

const siteScript = readFileSync(new URL('../pages/assets/anteroom-site.js', import.meta.url), 'utf8');

/**
 * The protected site's side of seats that follow the visitor: `POST /api/sessions/refresh` and
 * `POST /api/sessions/release` with `Authorization: Bearer <admission token>`, and `GET /anteroom-site.js`.
 * An `extraRoutes` entry: resolves true when it answered.
 */
export function createSiteSessionRoutes(deps: SiteSessionsDeps) {
  return async (request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> => {
    if (path === '/anteroom-site.js' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
      response.end(siteScript);
      return true;
    }
    if (path !== '/api/sessions/refresh' && path !== '/api/sessions/release') return false;
    allowSiteOrigin(request, response, deps.siteOrigin);
    if (request.method === 'OPTIONS') {
      response.writeHead(204, { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization', 'access-control-max-age': '600' });
      response.end();
      return true;
    }
    if (request.method !== 'POST') {
      json(response, 405, { error: 'method_not_allowed' });
      return true;
    }
    await answerSite(request, response, path.endsWith('refresh') ? 'refresh' : 'release', deps);
    return true;
  };
}

/** Lets the site's own pages call these routes (and nobody else's pages). */
function allowSiteOrigin(request: IncomingMessage, response: ServerResponse, siteOrigin: string | null): void {
  if (siteOrigin !== null && request.headers.origin === siteOrigin) {
    response.setHeader('access-control-allow-origin', siteOrigin);
    response.setHeader('vary', 'origin');
  }
}

async function answerSite(request: IncomingMessage, response: ServerResponse, what: 'refresh' | 'release', deps: SiteSessionsDeps): Promise<void> {
  const held = await heldSeat(request, deps);
  if (held === null) return json(response, 401, { error: 'session_gone', message: 'no seat is held for this token' });
  const { room, admission } = held;
  if (what === 'release') {
    room.runtime.configure({ type: 'releaseSite', session: admission.session });
    return json(response, 200, { released: !room.runtime.holdsSession(admission.session) });
  }
  room.runtime.configure({ type: 'refreshSite', session: admission.session });
  const claims = { session: admission.session, room: admission.room, ...(admission.audience === undefined ? {} : { audience: admission.audience }) };
  const fresh = await deps.issuer.issue(claims, room.runtime.settings.tokenTtlMs, Date.now());
  json(response, 200, fresh);
}

/** The room and verified token of a request whose bearer token names a seat still held; else null. */
async function heldSeat(request: IncomingMessage, deps: SiteSessionsDeps): Promise<{ room: ServedRoom; admission: VerifiedAdmission } | null> {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (bearer === undefined) return null;
  let admission: VerifiedAdmission;
  try {
    admission = await deps.issuer.verify(bearer);
  } catch {
    return null;
  }
  const room = deps.rooms.get(admission.room);
  // Session ids are never reused, so a seat held for this session is this token's seat.
  if (room === undefined || !room.runtime.admission.seatBySession.has(admission.session)) return null;
  return { room, admission };
}
