import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { replay } from '../../src/log/replay.js';
import { closeAll, startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

afterEach(closeAll);

const secret = 'a-site-sign-in-secret-of-32-chars';

function token(claims: Record<string, unknown>, expiresIn: string | number = '5m', key = secret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expiresIn).sign(new TextEncoder().encode(key));
}

/** 101 when a WebSocket opened, else the HTTP status of the refusal. */
async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const client = new TestClient(url, { headers });
  return client.opened.then(
    () => {
      client.terminate();
      return 101;
    },
    (error: Error) => Number(/Unexpected server response: (\d+)/.exec(error.message)?.[1] ?? 0),
  );
}

const siteFlags = ['--auth-secret', secret, '--auth-issuer', 'https://site.example', '--auth-audience', 'anteroom', '--heartbeat-timeout', '60000'];
const claims = { sub: 'ada', name: 'Ada L.', iss: 'https://site.example', aud: 'anteroom' };

describe('sign-in at the upgrade', () => {
  it('with --auth-secret, refuses a missing, bad, expired, wrong-issuer or wrong-audience token with HTTP 401', async () => {
    const live = await startServer(siteFlags);
    const now = Math.floor(Date.now() / 1000);
    const refused = [
      'not-a-jwt',
      await token(claims, now - 10),
      await token({ ...claims, iss: 'https://evil.example' }),
      await token({ ...claims, aud: 'elsewhere' }),
      await token(claims, '5m', 'another-secret-another-secret-xxx'),
      await token({ iss: claims.iss, aud: claims.aud }),
    ];
    expect(await upgradeStatus(live.url)).toBe(401);
    for (const bad of refused) {
      expect(await upgradeStatus(`${live.url}/?access_token=${encodeURIComponent(bad)}`), bad).toBe(401);
      expect(await upgradeStatus(live.url, { authorization: `Bearer ${bad}` }), bad).toBe(401);
      expect(await upgradeStatus(live.url, { cookie: `anteroom_auth=${bad}` }), bad).toBe(401);
    }
    // No socket was ever accepted: nothing reached the log.
    expect(live.server.log.since(0, 1000).filter((record) => record.kind === 'connected')).toEqual([]);
    await waitFor('every refused socket to be given back', () => live.server.gate.openCount === 0);
  });

  it('accepts a good token from each source, and the identity reaches the connection and the log', async () => {
    const live = await startServer(siteFlags);
    const good = await token(claims);
    for (const [url, headers] of [
      [`${live.url}/?access_token=${good}`, {}],
      [live.url, { authorization: `Bearer ${good}` }],
      [live.url, { cookie: `other=1; anteroom_auth=${good}` }],
    ] as const) {
      const client = await TestClient.placed(url, { headers });
      const runtime = live.server.rooms.get('main')!.runtime;
      const conn = [...runtime.connectionIds()].at(-1)!;
      expect(runtime.identityOf(conn)).toEqual({ user: 'ada', name: 'Ada L.', authenticated: true });
      await client.close();
    }
    const connected = live.server.log.since(0, 1000).filter((record) => record.kind === 'connected');
    expect(connected.map((record) => record.data)).toEqual(Array(3).fill(expect.objectContaining({ user: 'ada', name: 'Ada L.' })));
  });

  it('takes the cookie named by --auth-cookie', async () => {
    const live = await startServer([...siteFlags, '--auth-cookie', 'site_jwt']);
    const good = await token(claims);
    expect(await upgradeStatus(live.url, { cookie: `anteroom_auth=${good}` })).toBe(401);
    expect(await upgradeStatus(live.url, { cookie: `site_jwt=${good}` })).toBe(101);
  });

  it('without --auth-required, a guest is let in with a guest identity', async () => {
    const live = await startServer();
    await TestClient.placed(live.url);
    const runtime = live.server.rooms.get('main')!.runtime;
    const conn = [...runtime.connectionIds()][0]!;
    const session = runtime.admission.seats.get(conn)!.session;
    expect(runtime.identityOf(conn)).toEqual({ user: session, name: `Guest ${session.slice(0, 4)}`, authenticated: false });
  });
});

describe('one place per person', () => {
  it("a second connection of a seated user takes the seat over: the first gets evicted{replaced} and 4005; replay agrees", async () => {
    const live = await startServer([...siteFlags, '--capacity', '1']);
    const headers = { authorization: `Bearer ${await token(claims)}` };
    const first = await TestClient.placed(live.url, { headers });
    expect(first.lastStatus).toMatchObject({ status: 'active' });
    const second = await TestClient.placed(live.url, { headers });
    expect(second.lastStatus).toMatchObject({ status: 'active' });
    expect(await first.next((m) => m.type === 'evicted')).toMatchObject({ reason: 'replaced' });
    expect((await first.closed).code).toBe(4005);
    const runtime = live.server.rooms.get('main')!.runtime;
    expect(runtime.activeCount).toBe(1);
    expect(runtime.queueLength).toBe(0);
    // Someone else still waits: the seat was never given twice.
    const other = await TestClient.placed(live.url, { headers: { authorization: `Bearer ${await token({ ...claims, sub: 'bob' })}` } });
    expect(other.lastStatus).toMatchObject({ status: 'queued', position: 1 });
    const records = live.server.log.since(0, 10_000);
    expect(records.filter((record) => record.kind === 'seatResumed')).toEqual([expect.objectContaining({ data: expect.objectContaining({ user: 'ada', replacedSession: null }) })]);
    expect(replay(records)).toMatchObject({ ok: true });
  });

  it('a second connection of a queued user takes the place in line over, at its position', async () => {
    const live = await startServer([...siteFlags, '--capacity', '1']);
    await TestClient.placed(live.url, { headers: { authorization: `Bearer ${await token({ ...claims, sub: 'bob' })}` } });
    await TestClient.placed(live.url, { headers: { authorization: `Bearer ${await token({ ...claims, sub: 'cy' })}` } });
    const headers = { authorization: `Bearer ${await token(claims)}` };
    const first = await TestClient.placed(live.url, { headers });
    expect(first.lastStatus).toMatchObject({ status: 'queued', position: 2, queueLength: 2 });
    const second = await TestClient.placed(live.url, { headers });
    expect(second.lastStatus).toMatchObject({ status: 'queued', position: 2, queueLength: 2 });
    expect((await first.closed).code).toBe(4005);
    expect(live.server.rooms.get('main')!.runtime.queueLength).toBe(2);
    expect(replay(live.server.log.since(0, 10_000))).toMatchObject({ ok: true });
  });

  it('--max-connections-per-user refuses one more open connection of a user with HTTP 503, across rooms', async () => {
    const rooms = ['main', 'other'].map((name) => ({ ...defaultRoomSettings, name, heartbeatTimeoutMs: 60_000, heartbeatIntervalMs: 1000 }));
    const live = await startServer([...siteFlags, '--max-connections-per-user', '1'], {}, { rooms });
    const headers = { authorization: `Bearer ${await token(claims)}` };
    const first = await TestClient.placed(live.url, { headers });
    expect(await upgradeStatus(`${live.url}/rooms/other`, headers)).toBe(503);
    expect(await upgradeStatus(live.url, headers)).toBe(503);
    // Another user is not counted against this one.
    expect(await upgradeStatus(live.url, { authorization: `Bearer ${await token({ ...claims, sub: 'bob' })}` })).toBe(101);
    await first.close();
    await waitFor('the first connection to be given back', async () => (await upgradeStatus(live.url, headers)) === 101);
  });
});

describe('the sign-in cookie and the page that opens the socket', () => {
  it("counts only from the server's own origin, an allowed one, or no browser page: another site's page cannot act as the visitor", async () => {
    const live = await startServer([...siteFlags, '--allowed-origins', '*']);
    const cookie = `anteroom_auth=${await token(claims)}`;
    const own = live.httpUrl;
    // Another site's page: the browser still attaches the cookie, but it is not taken.
    expect(await upgradeStatus(live.url, { cookie, origin: 'https://evil.example' })).toBe(401);
    expect(await upgradeStatus(live.url, { cookie, origin: 'null' })).toBe(401);
    expect(await upgradeStatus(live.url, { cookie, origin: own })).toBe(101);
    expect(await upgradeStatus(live.url, { cookie })).toBe(101);
    // A token the page presents itself is its own to give.
    expect(await upgradeStatus(live.url, { authorization: `Bearer ${await token(claims)}`, origin: 'https://evil.example' })).toBe(101);
    const listed = await startServer([...siteFlags, '--allowed-origins', 'https://shop.example']);
    expect(await upgradeStatus(listed.url, { cookie, origin: 'https://shop.example' })).toBe(101);
  });

  it('without --auth-required, a cookie from another origin makes a guest, never the user', async () => {
    const live = await startServer(['--auth-secret', secret, '--auth-required=false', '--heartbeat-timeout', '60000'], {}, { authRequired: false });
    const client = await TestClient.placed(live.url, { headers: { cookie: `anteroom_auth=${await token(claims)}`, origin: 'https://evil.example' } });
    const runtime = live.server.rooms.get('main')!.runtime;
    expect(runtime.identityOf([...runtime.connectionIds()][0]!)).toMatchObject({ authenticated: false });
    await client.close();
  });
});
