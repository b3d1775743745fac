import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Identity } from '../../machines/identity.js';
import { ConfigError } from '../config/config-error.js';
import type { AuthSettings } from '../config/server-config.js';
import { jwksKeySet } from '../server/join-tickets.js';
import { originAllowed } from '../server/upgrade-gate.js';

/** Longest token read from a request, in characters: a JWT is a few hundred. */
const maxTokenChars = 8192;
/** Longest `sub` accepted and longest display name kept, in characters. */
const maxSubjectChars = 256;
const maxNameChars = 64;

/** Verifies one token: the identity it proves, or null when it does not verify. */
export type TokenVerifier = (token: string) => Promise<Identity | null>;

/** What the upgrade carries: an identity, a guest (none needed), or a refusal (401). */
export type UpgradeIdentity = { identity: Identity } | { guest: true } | { refused: string };

/**
 * The tokens an upgrade presents, in the order they are tried: `Authorization: Bearer`, `?access_token=`, then
 * the cookie named `cookieName` (unless `withCookie` is false). Oversized ones are left out.
 */
export function tokensOfRequest(request: Pick<IncomingMessage, 'headers' | 'url'>, cookieName: string, withCookie = true): string[] {
  const tokens: string[] = [];
  const bearer = /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) tokens.push(bearer);
  const query = request.url?.split('?', 2)[1];
  const fromQuery = query === undefined ? null : new URLSearchParams(query).get('access_token');
  if (fromQuery) tokens.push(fromQuery);
  const fromCookie = withCookie ? cookieValue(request.headers.cookie, cookieName) : null;
  if (fromCookie) tokens.push(fromCookie);
  return tokens.filter((token) => token.length <= maxTokenChars);
}

/** The value of cookie `name` in a `Cookie` header (RFC 6265 section 5.4), or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals !== -1 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return null;
}

/** The identity claims prove: `sub` (required, a non-empty string), the display name `name`, else `sub`. */
export function identityOfClaims(payload: JWTPayload): Identity | null {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub === '' || sub.length > maxSubjectChars) return null;
  const name = typeof payload.name === 'string' && payload.name.trim() !== '' ? payload.name.trim().slice(0, maxNameChars) : sub.slice(0, maxNameChars);
  return { user: sub, name, authenticated: true };
}

const asymmetricAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * The verifier of the site's tokens, or null when no key flag is given. `exp`, when present, must be in the
 * future; `iss` and `aud` must match when configured. Throws ConfigError when the PEM or JWKS file cannot be read.
 */
export function createSiteTokenVerifier(settings: AuthSettings): TokenVerifier | null {
  const key = siteKey(settings);
  if (key === null) return null;
  const options = {
    algorithms: settings.authSecret !== null ? ['HS256'] : asymmetricAlgorithms,
    ...(settings.authIssuer === null ? {} : { issuer: settings.authIssuer }),
    ...(settings.authAudience === null ? {} : { audience: settings.authAudience }),
  };
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, options);
      return identityOfClaims(payload);
    } catch {
      return null;
    }
  };
}

function siteKey(settings: AuthSettings): Uint8Array | KeyObject | JWTVerifyGetKey | null {
  if (settings.authSecret !== null) return new TextEncoder().encode(settings.authSecret);
  if (settings.authPublicKey !== null) {
    try {
      return createPublicKey(readFileSync(settings.authPublicKey, 'utf8'));
    } catch {
      throw new ConfigError(`--auth-public-key ${settings.authPublicKey}: not a readable PEM public key`);
    }
  }
  if (settings.authJwks === null) return null;
  try {
    return jwksKeySet(settings.authJwks);
  } catch (error) {
    throw new ConfigError(`--auth-jwks: ${(error as Error).message}`);
  }
}

/**
 * Whether an upgrade's cookie may sign it in. A browser attaches the cookie to an upgrade whichever page opened
 * it, so a page of another site could otherwise act as the visitor (cross-site WebSocket hijacking: take the
 * visitor's place over and read its admission). It counts when no browser page opened the socket (no
 * `Origin`), or when the page is of the server's own origin or one of `allowedOrigins` (normalized; `*` is not
 * taken to mean every page here).
 */
export function cookieMaySignIn(request: Pick<IncomingMessage, 'headers'>, allowedOrigins: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  return origin === undefined || originAllowed(origin, request.headers.host, allowedOrigins);
}

/**
 * Who an upgrade is: the first presented token that one of `verifiers` accepts (the site's, then the built-in
 * login's); the cookie only as `cookieMaySignIn` allows. Without one, a guest, unless `required`: then refused.
 */
export async function identifyUpgrade(
  request: Pick<IncomingMessage, 'headers' | 'url'>,
  cookieName: string,
  verifiers: readonly TokenVerifier[],
  required: boolean,
  cookieOrigins: ReadonlySet<string> = new Set(),
): Promise<UpgradeIdentity> {
  const tokens = tokensOfRequest(request, cookieName, cookieMaySignIn(request, cookieOrigins));
  for (const token of tokens) {
    for (const verify of verifiers) {
      const identity = await verify(token);
      if (identity !== null) return { identity };
    }
  }
  if (!required) return { guest: true };
  return { refused: tokens.length === 0 ? 'sign-in required' : 'token refused' };
}
