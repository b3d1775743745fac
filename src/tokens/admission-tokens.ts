/**
 * Admission tokens: ES256 JWTs (`sub` = `sid` = session, `room`, `jti`, `iat`, `exp`, `iss`, and `aud` = the
 * protected site's origin when there is one) that the protected site verifies offline against the public key
 * served at /.well-known/jwks.json.
 */
import { readFile } from 'node:fs/promises';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, jwtVerify, type JWK } from 'jose';
import { ConfigError } from '../config/config-error.js';

export interface AdmissionClaims {
  session: string;
  room: string;
  /** The protected site's origin (`aud`), when the server has a `--target-url`. */
  audience?: string;
}

export interface VerifiedAdmission extends AdmissionClaims {
  /** Seconds since the epoch, as in the JWT. */
  exp: number;
  iat: number;
  /** Unique per token. */
  jti: string;
}

export interface AdmissionTokenIssuer {
  issue(claims: AdmissionClaims, ttlMs: number, nowMs: number): Promise<{ token: string; expiresAt: number }>;
  /** Public keys only, each with kid, alg 'ES256' and use 'sig'. */
  jwks(): { keys: JWK[] };
  /** Checks signature, issuer and expiry against the current time; for tests and tools. */
  verify(token: string): Promise<VerifiedAdmission>;
}

export const admissionTokenAlgorithm = 'ES256';
export const defaultTokenIssuer = 'anteroom';

export async function createAdmissionTokenIssuer(opts: {
  keyFile?: string | null;
  /** The key itself (PEM), shared by a cluster; `keyFile` wins when both are given. */
  keyPem?: string;
  issuer?: string;
}): Promise<AdmissionTokenIssuer> {
  const issuer = opts.issuer ?? defaultTokenIssuer;
  const { privateKey, publicJwk } =
    opts.keyFile !== undefined && opts.keyFile !== null
      ? await loadSigningKey(opts.keyFile)
      : opts.keyPem !== undefined
        ? await signingKeyFromPem(opts.keyPem, 'the cluster signing key')
        : await generateSigningKey();

  // RFC 7638 thumbprint: the same key always gets the same kid, across restarts and replicas.
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const publishedKey: JWK = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid, alg: admissionTokenAlgorithm, use: 'sig' };
  const keySet = createLocalJWKSet({ keys: [publishedKey] });
  // The protected header is the same for every token: encoded once.
  const encodedHeader = base64url(JSON.stringify({ alg: admissionTokenAlgorithm, kid, typ: 'JWT' }));

  return {
    async issue(claims, ttlMs, nowMs) {
      if (typeof claims.session !== 'string' || claims.session === '') throw new TypeError('session must be a non-empty string');
      if (typeof claims.room !== 'string' || claims.room === '') throw new TypeError('room must be a non-empty string');
      const iat = Math.floor(nowMs / 1000);
      // Rounded down so expiresAt never promises more than the token holds.
      const exp = Math.floor((nowMs + ttlMs) / 1000);
      if (!Number.isFinite(exp) || exp <= iat) {
        throw new RangeError(`token lifetime must reach the next whole second, got ttlMs=${ttlMs} at nowMs=${nowMs}`);
      }
      // `sid` names the session for a site's refresh; `jti` makes every token unique.
      const payload = { room: claims.room, sid: claims.session, jti: randomUUID(), sub: claims.session, iss: issuer, iat, exp };
      const signingInput = `${encodedHeader}.${base64url(JSON.stringify(claims.audience === undefined ? payload : { ...payload, aud: claims.audience }))}`;
      return { token: `${signingInput}.${signES256(signingInput, privateKey)}`, expiresAt: exp * 1000 };
    },

    jwks() {
      return { keys: [{ ...publishedKey }] };
    },

    async verify(token) {
      const { payload } = await jwtVerify(token, keySet, { issuer, algorithms: [admissionTokenAlgorithm] });
      const { sub, room, exp, iat, jti, aud } = payload;
      if (typeof sub !== 'string' || typeof room !== 'string' || typeof exp !== 'number' || typeof iat !== 'number' || typeof jti !== 'string') {
        throw new Error('admission token lacks sub, room, exp, iat or jti');
      }
      return { session: sub, room, exp, iat, jti, ...(typeof aud === 'string' ? { audience: aud } : {}) };
    },
  };
}

const base64url = (text: string): string => Buffer.from(text).toString('base64url');

/**
 * The JWS signature of `signingInput` (RFC 7515 §5.1) under ES256 (RFC 7518 §3.4: ECDSA P-256 with SHA-256,
 * R and S as 32 bytes each), base64url-encoded. Signed synchronously with a key object made once: a
 * promotion's admission token is ready in the turn that admits, with no trip through the thread pool.
 */
function signES256(signingInput: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

async function generateSigningKey(): Promise<{ privateKey: KeyObject; publicJwk: JWK }> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
}

/** Loads a P-256 private key from PEM (PKCS#8, or the SEC1 "EC PRIVATE KEY" form openssl also writes). */
async function loadSigningKey(path: string): Promise<{ privateKey: KeyObject; publicJwk: JWK }> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`--key-file ${path}: cannot read the key file (${reason})`, { cause: error });
  }
  return signingKeyFromPem(pem, `--key-file ${path}`);
}

/** A P-256 private key from its PEM text; `source` names it in a ConfigError. */
async function signingKeyFromPem(pem: string, source: string): Promise<{ privateKey: KeyObject; publicJwk: JWK }> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${source}: not a PEM private key (${reason})`, { cause: error });
  }
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  if (keyObject.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const found = keyObject.asymmetricKeyType === 'ec' ? `EC ${curve ?? 'unknown curve'}` : String(keyObject.asymmetricKeyType);
    throw new ConfigError(`${source}: must be an EC P-256 private key for ES256, got ${found}`);
  }

  // Parsed once: each sign uses this key object as it is.
  const publicJwk = await exportJWK(createPublicKey(keyObject));
  return { privateKey: keyObject, publicJwk };
}
