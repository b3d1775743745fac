import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLoginTokens } from '../../src/identity/login-tokens.js';
import type { AuthSettings } from '../../src/config/server-config.js';
import { cookieValue, createSiteTokenVerifier, identifyUpgrade, identityOfClaims, tokensOfRequest } from '../../src/identity/upgrade-auth.js';

const secret = 'a-site-sign-in-secret-of-32-chars';
const none: AuthSettings = { authSecret: null, authPublicKey: null, authJwks: null, authIssuer: null, authAudience: null, authCookie: 'anteroom_auth', authRequired: false };

function hs256(claims: Record<string, unknown>, expiresIn: string | number = '5m', key = secret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expiresIn).sign(new TextEncoder().encode(key));
}

describe('tokens of an upgrade', () => {
  it('takes the bearer header, then access_token, then the cookie', () => {
    const request = { headers: { authorization: 'Bearer b.b.b', cookie: 'x=1; anteroom_auth=c.c.c; y=2' }, url: '/rooms/a?access_token=q.q.q&resume=r' };
    expect(tokensOfRequest(request, 'anteroom_auth')).toEqual(['b.b.b', 'q.q.q', 'c.c.c']);
    expect(tokensOfRequest({ headers: {}, url: '/' }, 'anteroom_auth')).toEqual([]);
    expect(tokensOfRequest({ headers: { authorization: 'Basic abc' }, url: '/' }, 'anteroom_auth')).toEqual([]);
  });

  it('reads a named cookie, quoted or not, and no other', () => {
    expect(cookieValue('a=1; site_jwt="t.t.t"', 'site_jwt')).toBe('t.t.t');
    expect(cookieValue('xsite_jwt=1', 'site_jwt')).toBeNull();
    expect(cookieValue(undefined, 'site_jwt')).toBeNull();
  });

  it('leaves out tokens too long to be one', () => {
    expect(tokensOfRequest({ headers: { authorization: `Bearer ${'a'.repeat(9000)}` }, url: '/' }, 'anteroom_auth')).toEqual([]);
  });
});

describe('identity of claims', () => {
  it('is sub, named by name else sub; no sub, no identity', () => {
    expect(identityOfClaims({ sub: 'u1', name: 'Ada' })).toEqual({ user: 'u1', name: 'Ada', authenticated: true });
    expect(identityOfClaims({ sub: 'u1', name: '  ' })).toEqual({ user: 'u1', name: 'u1', authenticated: true });
    expect(identityOfClaims({ sub: 'u1', name: 7 })).toEqual({ user: 'u1', name: 'u1', authenticated: true });
    expect(identityOfClaims({ name: 'Ada' })).toBeNull();
    expect(identityOfClaims({ sub: '' })).toBeNull();
  });
});

describe("the site's token verifier", () => {
  it('is none without a key flag', () => {
    expect(createSiteTokenVerifier(none)).toBeNull();
  });

  it('HS256: accepts a good token; refuses a bad signature, an expired token, and a wrong issuer or audience', async () => {
    const verify = createSiteTokenVerifier({ ...none, authSecret: secret, authIssuer: 'https://site.example', authAudience: 'anteroom' })!;
    const claims = { sub: 'u1', iss: 'https://site.example', aud: 'anteroom' };
    expect(await verify(await hs256(claims))).toEqual({ user: 'u1', name: 'u1', authenticated: true });
    expect(await verify(await hs256(claims, '5m', 'another-secret-another-secret-xxx'))).toBeNull();
    expect(await verify(await hs256(claims, Math.floor(Date.now() / 1000) - 10))).toBeNull();
    expect(await verify(await hs256({ ...claims, iss: 'https://evil.example' }))).toBeNull();
    expect(await verify(await hs256({ ...claims, aud: 'someone-else' }))).toBeNull();
    expect(await verify('not-a-jwt')).toBeNull();
  });

  it('PEM public key and JWKS file: accept tokens their private key signed, and not an HS256 token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-auth-'));
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'site.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const es256 = await new SignJWT({ sub: 'u2', name: 'Bo' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(privateKey);
    for (const settings of [{ ...none, authPublicKey: join(dir, 'site.pem') }, { ...none, authJwks: join(dir, 'jwks.json') }]) {
      const verify = createSiteTokenVerifier(settings)!;
      expect(await verify(es256)).toEqual({ user: 'u2', name: 'Bo', authenticated: true });
      expect(await verify(await hs256({ sub: 'u2' }))).toBeNull();
    }
  });

  it('names the flag when its key file cannot be read', () => {
    expect(() => createSiteTokenVerifier({ ...none, authPublicKey: '/nonexistent/site.pem' })).toThrow(/--auth-public-key/);
    expect(() => createSiteTokenVerifier({ ...none, authJwks: '/nonexistent/jwks.json' })).toThrow(/--auth-jwks/);
  });
});

describe('identify an upgrade', () => {
  const verify = createSiteTokenVerifier({ ...none, authSecret: secret })!;

  it('takes the first token that verifies; without one a guest, or refused when required', async () => {
    const good = await hs256({ sub: 'u1' });
    const request = (headers: Record<string, string>, url = '/') => ({ headers, url });
    expect(await identifyUpgrade(request({ authorization: 'Bearer stale', cookie: `anteroom_auth=${good}` }), 'anteroom_auth', [verify], true)).toEqual({
      identity: { user: 'u1', name: 'u1', authenticated: true },
    });
    expect(await identifyUpgrade(request({}), 'anteroom_auth', [verify], false)).toEqual({ guest: true });
    expect(await identifyUpgrade(request({}, '/?access_token=bad'), 'anteroom_auth', [verify], false)).toEqual({ guest: true });
    expect(await identifyUpgrade(request({}), 'anteroom_auth', [verify], true)).toEqual({ refused: 'sign-in required' });
    expect(await identifyUpgrade(request({}, '/?access_token=bad'), 'anteroom_auth', [verify], true)).toEqual({ refused: 'token refused' });
  });

  it("accepts the built-in login's token beside the site's, and the site's key does not sign logins", async () => {
    const login = createLoginTokens(new Uint8Array(32).fill(7));
    const token = await login.issue('alice');
    expect(await identifyUpgrade({ headers: { cookie: `anteroom_auth=${token}` }, url: '/' }, 'anteroom_auth', [verify, login.verify], true)).toEqual({
      identity: { user: 'alice', name: 'alice', authenticated: true },
    });
    expect(await login.verify(await hs256({ sub: 'alice' }))).toBeNull();
    expect(await login.verify(await login.issue('alice', Date.now() - 13 * 3600 * 1000))).toBeNull();
  });
});
