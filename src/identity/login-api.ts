import type { IncomingMessage, ServerResponse } from 'node:http';
import { addressBlock } from '../server/address-block.js';
import type { AddressRate } from '../server/address-rate.js';
import { json, readJsonBody } from '../server/http-api.js';
import { decoyPasswordHash, maxPasswordBytes, verifyPassword } from './password-hash.js';
import { loginTtlSeconds, type LoginTokens } from './login-tokens.js';
import { PasswordChecks } from './password-checks.js';
import { cookieMaySignIn } from './upgrade-auth.js';
import { accountNamePattern, type UserAccounts } from './user-accounts.js';

export interface LoginRoutesDeps {
  /** The built-in accounts and their token signer; null without a data dir (login then answers 404). */
  accounts: { users: UserAccounts; tokens: LoginTokens } | null;
  /** The cookie the login sets and the upgrade reads (`--auth-cookie`). */
  cookieName: string;
  /** Login attempts per client address (an IPv6 one by its /64). */
  attempts: AddressRate;
  addressOf: (request: IncomingMessage) => string;
  /** Origins (normalized) whose pages may sign in and out beside the server's own (`--allowed-origins`, no `*`). */
  cookieOrigins: ReadonlySet<string>;
  /** Whether `X-Forwarded-Proto` is believed (`--trust-proxy`): it says whether the visitor used https. */
  trustProxy: boolean;
}

/** Largest login body, bytes: a name and a password. */
const maxLoginBodyBytes = 4096;
/** Password checks at once (half the default thread pool), and waiting behind them (about a second's worth). */
const maxRunningChecks = 2;
const maxWaitingChecks = 16;

/**
 * `POST /api/login {"username","password"}` and `POST /api/logout` (protocol v2 section 5). An `extraRoutes`
 * entry: resolves true when it answered.
 */
export function createLoginRoutes(deps: LoginRoutesDeps) {
  const checks = new PasswordChecks(maxRunningChecks, maxWaitingChecks);
  // Made now, not by the first unknown name: that login would take two hashes' time and say the name is unknown.
  if (deps.accounts !== null) decoyPasswordHash().catch(() => {});
  return async (request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> => {
    if (path !== '/api/login' && path !== '/api/logout') return false;
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      json(response, 405, { error: 'method_not_allowed' });
      return true;
    }
    if (path === '/api/logout') {
      // A plain form of another site can post here (no preflight): its page must not sign the visitor out.
      if (!cookieMaySignIn(request, deps.cookieOrigins)) {
        json(response, 403, { error: 'origin_not_allowed' });
        return true;
      }
      response.setHeader('set-cookie', cookie(deps.cookieName, '', 0, isHttps(request, deps.trustProxy)));
      json(response, 200, { loggedOut: true });
      return true;
    }
    await login(request, response, deps, checks);
    return true;
  };
}

/**
 * The login cookie: HttpOnly (no script reads it), SameSite=Lax, for the whole site, `maxAge` seconds; `Secure`
 * when the visitor came over https, so the browser never sends it in clear.
 */
function cookie(name: string, value: string, maxAge: number, secure: boolean): string {
  return `${name}=${value}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/** Whether the visitor's request came over https: TLS to this server, or a trusted proxy that says so. */
function isHttps(request: IncomingMessage, trustProxy: boolean): boolean {
  if ((request.socket as { encrypted?: boolean }).encrypted === true) return true;
  const proto = request.headers['x-forwarded-proto'];
  return trustProxy && typeof proto === 'string' && proto.split(',').at(-1)!.trim().toLowerCase() === 'https';
}

async function login(request: IncomingMessage, response: ServerResponse, deps: LoginRoutesDeps, checks: PasswordChecks): Promise<void> {
  if (deps.accounts === null) return json(response, 404, { error: 'no_accounts', message: 'built-in accounts need the server to run with --data-dir' });
  // Spent before the password is looked at, so guessing is slow whatever the answers.
  const waitMs = deps.attempts.take(addressBlock(deps.addressOf(request)), Date.now());
  if (waitMs > 0) {
    response.setHeader('retry-after', String(Math.ceil(waitMs / 1000)));
    return json(response, 429, { error: 'too_many_requests', retryAfterMs: waitMs });
  }
  const credentials = await readCredentials(request);
  if (typeof credentials === 'string') return json(response, credentials === 'too_large' ? 413 : 400, { error: credentials });
  const stored = deps.accounts.users.passwordHashOf(credentials.username);
  // An unknown name is checked against a decoy, so it takes as long to refuse as a wrong password.
  const matches = await checks.run(async () => verifyPassword(credentials.password, stored ?? (await decoyPasswordHash())));
  if (matches === 'busy') {
    response.setHeader('retry-after', '1');
    return json(response, 503, { error: 'busy', message: 'too many sign-ins at once; try again shortly' });
  }
  if (stored === null || !matches) return json(response, 401, { error: 'bad_credentials' });
  const token = await deps.accounts.tokens.issue(credentials.username);
  response.setHeader('set-cookie', cookie(deps.cookieName, token, loginTtlSeconds, isHttps(request, deps.trustProxy)));
  json(response, 200, { user: credentials.username, name: credentials.username, expiresIn: loginTtlSeconds });
}

/** The body's username and password, or why it is refused (`too_large`, `bad_json`, `aborted`, `bad_request`). */
async function readCredentials(request: IncomingMessage): Promise<{ username: string; password: string } | 'too_large' | 'bad_json' | 'aborted' | 'bad_request'> {
  // JSON only: a page of another site cannot send it without a CORS preflight, which is never granted here,
  // so no other site can sign a visitor in to an account of its choosing.
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) return 'bad_request';
  const read = await readJsonBody(request, maxLoginBodyBytes);
  if ('refused' in read) return read.refused;
  const body = read.value as { username?: unknown; password?: unknown } | null;
  if (typeof body !== 'object' || body === null) return 'bad_request';
  const { username, password } = body;
  if (typeof username !== 'string' || !accountNamePattern.test(username)) return 'bad_request';
  if (typeof password !== 'string' || password === '' || Buffer.byteLength(password) > maxPasswordBytes) return 'bad_request';
  return { username, password };
}
