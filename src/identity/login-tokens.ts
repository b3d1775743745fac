import { jwtVerify, SignJWT } from 'jose';
import { identityOfClaims, type TokenVerifier } from './upgrade-auth.js';

/** The issuer and audience of the built-in login's tokens, so no other token signed with the secret passes. */
const loginIssuer = 'anteroom';
const loginAudience = 'anteroom-login';

/** How long a login lasts, seconds: the token's `exp` and the cookie's `Max-Age`. */
export const loginTtlSeconds = 12 * 60 * 60;

/** Signs and checks the login cookie's HS256 JWT with the data dir's login secret. */
export interface LoginTokens {
  /** A token for account `name` (`sub` and `name`), valid `loginTtlSeconds` from `nowMs`. */
  issue(name: string, nowMs?: number): Promise<string>;
  verify: TokenVerifier;
}

/** The login tokens signed with `secret` (32 random bytes kept in the data dir). */
export function createLoginTokens(secret: Uint8Array): LoginTokens {
  return {
    issue: (name, nowMs = Date.now()) =>
      new SignJWT({ name })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(name)
        .setIssuer(loginIssuer)
        .setAudience(loginAudience)
        .setIssuedAt(Math.floor(nowMs / 1000))
        .setExpirationTime(Math.floor(nowMs / 1000) + loginTtlSeconds)
        .sign(secret),
    verify: async (token) => {
      try {
        const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], issuer: loginIssuer, audience: loginAudience, requiredClaims: ['exp'] });
        return identityOfClaims(payload);
      } catch {
        return null;
      }
    },
  };
}
