/**
 * Admission tokens: ES256 JWTs (`sub` = `sid` = session, `room`, `jti`, `iat`, `exp`, `iss`, and `aud` = the
 * protected site's origin when there is one) that the protected site verifies offline against the public key
 * served at /.well-known/jwks.json.
 */
import { readFile } from 'node:fs/promises';
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importPKCS8,
  jwtVerify,
  type CryptoKey,
  type JWK,
} from 'jose';
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
      const jwt = new SignJWT({ room: claims.room, sid: claims.session })
        .setProtectedHeader({ alg: admissionTokenAlgorithm, kid, typ: 'JWT' })
        .setJti(randomUUID())
        .setSubject(claims.session)
        .setIssuer(issuer)
        .setIssuedAt(iat)
        .setExpirationTime(exp);
      const token = await (claims.audience === undefined ? jwt : jwt.setAudience(claims.audience)).sign(privateKey);
      return { token, expiresAt: exp * 1000 };
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

async function generateSigningKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  // Extractable so the public half can be exported for the JWKS.
  const pair = await generateKeyPair(admissionTokenAlgorithm, { extractable: true });
  return { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
}

/** Loads a P-256 private key from PEM (PKCS#8, or the SEC1 "EC PRIVATE KEY" form openssl also writes). */
async function loadSigningKey(path: string): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
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
async function signingKeyFromPem(pem: string, source: string): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
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

  // Imported once as a CryptoKey so each sign does not convert the key again.
  const pkcs8 = keyObject.export({ format: 'pem', type: 'pkcs8' }).toString();
  const privateKey = await importPKCS8(pkcs8, admissionTokenAlgorithm);
  const publicJwk = await exportJWK(createPublicKey(keyObject));
  return { privateKey, publicJwk };
}
