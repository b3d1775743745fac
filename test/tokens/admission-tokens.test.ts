import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { createAdmissionTokenIssuer } from '../../src/tokens/admission-tokens.js';

const claims = { session: 'V1StGXR8_Z5jdHi6B', room: 'main' };

describe('createAdmissionTokenIssuer with a generated key', () => {
  it('issues a token that verifies against its JWKS with the documented claims and header', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const now = Date.now();
    const { token, expiresAt } = await issuer.issue(claims, 60_000, now);

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(issuer.jwks()), {
      issuer: 'anteroom',
      algorithms: ['ES256'],
    });
    expect(payload).toMatchObject({ sub: claims.session, room: claims.room, iss: 'anteroom' });
    expect(payload.iat).toBe(Math.floor(now / 1000));
    expect(payload.exp).toBe(Math.floor((now + 60_000) / 1000));
    expect(expiresAt).toBe((payload.exp as number) * 1000);
    expect(expiresAt).toBeLessThanOrEqual(now + 60_000);
    expect(protectedHeader.alg).toBe('ES256');
    expect(protectedHeader.kid).toBe(issuer.jwks().keys[0]?.kid);

    expect(payload).toMatchObject({ sid: claims.session, jti: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(payload).not.toHaveProperty('aud');
    await expect(issuer.verify(token)).resolves.toEqual({
      session: claims.session,
      room: claims.room,
      exp: payload.exp,
      iat: payload.iat,
      jti: payload.jti,
    });
  });

  it('signs per RFC 7518 §3.4: R and S, 32 bytes each, that node:crypto verifies against the published key', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const publicKey = createPublicKey({ key: issuer.jwks().keys[0]!, format: 'jwk' });
    for (let i = 0; i < 50; i++) {
      const { token } = await issuer.issue({ ...claims, audience: 'https://shop.example' }, 60_000, Date.now());
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const rs = Buffer.from(signature, 'base64url');
      expect(rs.length).toBe(64);
      const signingInput = Buffer.from(`${header}.${payload}`);
      expect(verify('sha256', signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rs)).toBe(true);
      // The same signature as DER, the form most ECDSA libraries take.
      const integer = (half: Buffer) => {
        let bytes = half;
        while (bytes.length > 1 && bytes[0] === 0 && bytes[1]! < 0x80) bytes = bytes.subarray(1);
        if (bytes[0]! >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
        return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
      };
      const body = Buffer.concat([integer(rs.subarray(0, 32)), integer(rs.subarray(32))]);
      expect(verify('sha256', signingInput, publicKey, Buffer.concat([Buffer.from([0x30, body.length]), body]))).toBe(true);
      expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', kid: issuer.jwks().keys[0]!.kid, typ: 'JWT' });
    }
  });

  it('gives every token its own jti, and the site origin as aud when there is one', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const claims = { session: 's1', room: 'main', audience: 'https://shop.example' };
    const [a, b] = await Promise.all([issuer.issue(claims, 60_000, Date.now()), issuer.issue(claims, 60_000, Date.now())]);
    const [va, vb] = await Promise.all([issuer.verify(a.token), issuer.verify(b.token)]);
    expect(va.jti).not.toBe(vb.jti);
    expect(va.audience).toBe('https://shop.example');
  });

  it('publishes only the public key, with kid (its RFC 7638 thumbprint), alg and use', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const { keys } = issuer.jwks();
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key.d).toBeUndefined();
    expect(key.kid).toBe(await calculateJwkThumbprint(key, 'sha256'));
  });

  it('gives each start its own key pair', async () => {
    const [first, second] = await Promise.all([createAdmissionTokenIssuer({}), createAdmissionTokenIssuer({})]);
    expect(first.jwks().keys[0]?.kid).not.toBe(second.jwks().keys[0]?.kid);
  });

  it('does not let a caller change the published keys', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const kid = issuer.jwks().keys[0]?.kid;
    issuer.jwks().keys[0]!.kid = 'changed';
    expect(issuer.jwks().keys[0]?.kid).toBe(kid);
  });

  it('fails verification against another key', async () => {
    const [signer, other] = await Promise.all([createAdmissionTokenIssuer({}), createAdmissionTokenIssuer({})]);
    const { token } = await signer.issue(claims, 60_000, Date.now());
    await expect(jwtVerify(token, createLocalJWKSet(other.jwks()))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(other.verify(token)).rejects.toThrow();

    // Same kid, different key: the signature itself must fail.
    const otherKey = { ...other.jwks().keys[0]!, kid: signer.jwks().keys[0]!.kid };
    await expect(jwtVerify(token, createLocalJWKSet({ keys: [otherKey] }))).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });

  it('fails verification once a claim is altered', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const { token } = await issuer.issue(claims, 60_000, Date.now());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const altered = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    altered.room = 'vip';
    const forged = `${header}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`;
    await expect(issuer.verify(forged)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it('fails verification once expired', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    const { token } = await issuer.issue(claims, 10_000, Date.now() - 60_000);
    await expect(jwtVerify(token, createLocalJWKSet(issuer.jwks()))).rejects.toBeInstanceOf(errors.JWTExpired);
    await expect(issuer.verify(token)).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it('uses the issuer name it is given', async () => {
    const issuer = await createAdmissionTokenIssuer({ issuer: 'shop-queue' });
    const { token } = await issuer.issue(claims, 60_000, Date.now());
    const keySet = createLocalJWKSet(issuer.jwks());
    await expect(jwtVerify(token, keySet, { issuer: 'shop-queue' })).resolves.toBeDefined();
    await expect(jwtVerify(token, keySet, { issuer: 'anteroom' })).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
  });

  it('refuses a lifetime that does not reach the next whole second, and empty claims', async () => {
    const issuer = await createAdmissionTokenIssuer({});
    await expect(issuer.issue(claims, 500, 1_700_000_000_000)).rejects.toBeInstanceOf(RangeError);
    await expect(issuer.issue({ session: '', room: 'main' }, 60_000, Date.now())).rejects.toBeInstanceOf(TypeError);
    await expect(issuer.issue({ session: 's', room: '' }, 60_000, Date.now())).rejects.toBeInstanceOf(TypeError);
  });
});

describe('createAdmissionTokenIssuer with --key-file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'anteroom-keys-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeKey(name: string, contents: string): string {
    const file = join(dir, name);
    writeFileSync(file, contents);
    return file;
  }

  it('signs with a PKCS#8 P-256 key and publishes its public half', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = writeKey('p256.pem', pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());

    const [first, restarted] = await Promise.all([
      createAdmissionTokenIssuer({ keyFile: file }),
      createAdmissionTokenIssuer({ keyFile: file }),
    ]);
    const published = first.jwks().keys[0]!;
    const expected = pair.publicKey.export({ format: 'jwk' });
    expect({ x: published.x, y: published.y, crv: published.crv }).toEqual({ x: expected.x, y: expected.y, crv: expected.crv });
    // Same key file, same kid: tokens from before a restart still verify after it.
    expect(restarted.jwks()).toEqual(first.jwks());

    const { token } = await first.issue(claims, 60_000, Date.now());
    expect(decodeProtectedHeader(token).kid).toBe(published.kid);
    await expect(restarted.verify(token)).resolves.toMatchObject({ session: claims.session, room: claims.room });
  });

  it('also reads the SEC1 "EC PRIVATE KEY" form', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = pair.privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    expect(pem).toContain('BEGIN EC PRIVATE KEY');
    const issuer = await createAdmissionTokenIssuer({ keyFile: writeKey('sec1.pem', pem) });
    const { token } = await issuer.issue(claims, 60_000, Date.now());
    await expect(jwtVerify(token, createPublicKey(pair.privateKey))).resolves.toBeDefined();
  });

  it.each([
    ['a missing file', () => join(dir, 'absent.pem'), /^--key-file .*absent\.pem: cannot read the key file \(ENOENT/],
    ['text that is not PEM', () => writeKey('garbage.pem', 'not a key'), /^--key-file .*garbage\.pem: not a PEM private key \(/],
    [
      'a public key',
      () => writeKey('public.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString()),
      /^--key-file .*public\.pem: not a PEM private key \(/,
    ],
    [
      'an RSA key',
      () =>
        writeKey(
          'rsa.pem',
          generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        ),
      /^--key-file .*rsa\.pem: must be an EC P-256 private key for ES256, got rsa$/,
    ],
    [
      'a P-384 key',
      () =>
        writeKey(
          'p384.pem',
          generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        ),
      /^--key-file .*p384\.pem: must be an EC P-256 private key for ES256, got EC secp384r1$/,
    ],
  ])('refuses %s with a ConfigError naming the file', async (_label, makeFile, message) => {
    const attempt = createAdmissionTokenIssuer({ keyFile: makeFile() });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(message);
  });
});
