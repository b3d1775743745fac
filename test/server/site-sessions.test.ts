import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../../src/log/replay.js';
import { closeAll, getJson, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

let shop: ChildProcess | undefined;

afterEach(async () => {
  if (shop && shop.exitCode === null) shop.kill('SIGKILL');
  shop = undefined;
  await closeAll();
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function post(live: LiveServer, path: string, token: string): Promise<Response> {
  return fetch(`${live.httpUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

/** A seated visitor who then leaves the waiting page for the site (its socket goes away, 1001). */
async function admittedThenAway(live: LiveServer): Promise<{ token: string; visitor: TestClient }> {
  const visitor = await TestClient.placed(live.url);
  const token = visitor.lastStatus!.token as string;
  await visitor.close(1001);
  return { token, visitor };
}

describe('seats that follow the visitor to the site', () => {
  it('admission tokens carry sid, jti and aud (the site origin)', async () => {
    const live = await startServer(['--target-url', 'https://shop.example/checkout']);
    const visitor = await TestClient.placed(live.url);
    const claims = decodeJwt(visitor.lastStatus!.token);
    expect(claims).toMatchObject({ sid: visitor.lastStatus!.session, sub: visitor.lastStatus!.session, aud: 'https://shop.example' });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the seat after the socket closes; refresh renews, release frees it for the head, then 401', async () => {
    const live = await startServer(['--capacity', '1', '--target-url', 'https://shop.example/', '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
    const { token } = await admittedThenAway(live);
    const waiting = await TestClient.placed(live.url);
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, away: 1, queued: 1 });
    const refreshed = await post(live, '/api/sessions/refresh', token);
    expect(refreshed.status).toBe(200);
    const fresh = (await refreshed.json()) as { token: string; expiresAt: number };
    expect(decodeJwt(fresh.token).jti).not.toBe(decodeJwt(token).jti);
    expect((await post(live, '/api/sessions/release', fresh.token)).status).toBe(200);
    await waiting.until((s) => s.status === 'active');
    expect((await post(live, '/api/sessions/refresh', token)).status).toBe(401);
    expect((await post(live, '/api/sessions/refresh', 'not-a-token')).status).toBe(401);
    expect(replay(live.server.log.since(0, 10_000))).toMatchObject({ ok: true });
  });

  it('a kicked site session no longer refreshes; without a target URL the seat goes with the socket', async () => {
    const live = await startServer(['--capacity', '1', '--target-url', 'https://shop.example/', '--admin-token', 'admin-token-for-tests']);
    const { token } = await admittedThenAway(live);
    const session = decodeJwt(token).sid as string;
    const kick = await fetch(`${live.httpUrl}/api/rooms/main/kick`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-token-for-tests', 'content-type': 'application/json' },
      body: JSON.stringify({ session }),
    });
    expect(kick.status).toBe(200);
    expect((await post(live, '/api/sessions/refresh', token)).status).toBe(401);
    const plain = await startServer(['--capacity', '1']);
    const { token: plainToken } = await admittedThenAway(plain);
    await waitFor('the seat to go with the socket', () => plain.server.rooms.get('main')!.runtime.activeCount === 0);
    expect((await post(plain, '/api/sessions/refresh', plainToken)).status).toBe(401);
  });

  it('serves the site script and lets only the site origin call refresh from a browser', async () => {
    const live = await startServer(['--target-url', 'https://shop.example/']);
    const script = await fetch(`${live.httpUrl}/anteroom-site.js`);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('/api/sessions/refresh');
    const preflight = (origin: string) => fetch(`${live.httpUrl}/api/sessions/refresh`, { method: 'OPTIONS', headers: { origin } });
    expect((await preflight('https://shop.example')).headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the example protected site verifies the token against the JWKS and keeps the seat while the visitor browses', async () => {
    const port = await freePort();
    const site = `http://127.0.0.1:${port}`;
    const live = await startServer(['--capacity', '1', '--target-url', `${site}/`, '--heartbeat-timeout', '60000', '--heartbeat-interval', '1000']);
    shop = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'examples', 'protected-site.mjs')], {
      env: { ...process.env, ANTEROOM_URL: live.httpUrl, SITE_ORIGIN: site },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => shop!.stdout!.once('data', resolve));
    const { token } = await admittedThenAway(live);
    const waiting = await TestClient.placed(live.url);
    const first = await fetch(`${site}/?anteroom_token=${token}`, { redirect: 'manual' });
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const again = await fetch(`${site}/basket`, { headers: { cookie }, redirect: 'manual' });
    expect(again.status).toBe(200);
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    const refreshes = live.server.log.since(0, 10_000).filter((r) => r.kind === 'siteRefreshed');
    expect(refreshes).toHaveLength(2);
    expect((await post(live, '/api/sessions/release', cookie.split('=')[1]!)).status).toBe(200);
    await waiting.until((s) => s.status === 'active');
    expect((await fetch(`${site}/basket`, { headers: { cookie }, redirect: 'manual' })).status).toBe(302);
    expect((await fetch(`${site}/`, { redirect: 'manual' })).status).toBe(302);
  });
});
