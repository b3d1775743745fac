import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, sleep, startServer, TestClient, type LiveServer } from '../support/live-server.js';

let live: LiveServer | undefined;

afterEach(closeAll);

describe('admission tokens', () => {
  it('signs an ES256 token that verifies against the served JWKS', async () => {
    live = await startServer();
    const client = await TestClient.open(`${live.url}/rooms/main`);
    const status = await client.next((m) => m.type === 'status' && m.status === 'active');
    const jwks = createRemoteJWKSet(new URL(`${live.httpUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(status.token, jwks, { algorithms: ['ES256'] });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe(status.session);
    expect(payload.room).toBe('main');
    expect(payload.exp! * 1000).toBe(status.expiresAt);
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(status.expiresAt).toBeGreaterThan(Date.now());
  });

  it('pushes a fresh token before expiry while the session stays active', async () => {
    live = await startServer(['--token-ttl', '2000']);
    const client = await TestClient.open(live.url);
    const first = await client.next((m) => m.type === 'status' && m.status === 'active');
    const keep = setInterval(() => client.send({ type: 'ping' }), 300);
    try {
      const fresh = await client.next((m) => m.type === 'token', 4000);
      expect(fresh.receivedAt).toBeLessThan(first.expiresAt);
      expect(fresh.expiresAt).toBeGreaterThan(first.expiresAt);
      const jwks = createRemoteJWKSet(new URL(`${live.httpUrl}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(fresh.token, jwks);
      expect(payload.sub).toBe(first.session);
    } finally {
      clearInterval(keep);
    }
  });

  it('with the shortest token lifetime renews about once a second, each token expiring later than the last', async () => {
    live = await startServer(['--token-ttl', '1000']);
    const client = await TestClient.open(live.url);
    const first = await client.next((m) => m.type === 'status' && m.status === 'active');
    const keep = setInterval(() => client.send({ type: 'ping' }), 300);
    try {
      await sleep(3000);
    } finally {
      clearInterval(keep);
    }
    const renewals = client.messages.filter((m) => m.type === 'token');
    // About three in 3 s; a renewal falling due again at once would send hundreds.
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    expect(renewals.length).toBeLessThanOrEqual(5);
    let previous = first.expiresAt;
    for (const renewal of renewals) {
      expect(renewal.expiresAt).toBeGreaterThan(previous);
      previous = renewal.expiresAt;
    }
  });

  it('rejects a token from another server key', async () => {
    live = await startServer();
    const other = await startServer();
    try {
      const client = await TestClient.open(other.url);
      const status = await client.next((m) => m.type === 'status' && m.status === 'active');
      const jwks = createRemoteJWKSet(new URL(`${live.httpUrl}/.well-known/jwks.json`));
      await expect(jwtVerify(status.token, jwks)).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});
