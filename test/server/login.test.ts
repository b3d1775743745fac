import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient, type LiveServer } from '../support/live-server.js';

afterEach(closeAll);

const root = join(import.meta.dirname, '..', '..');

/** Runs the real `anteroom` command with `stdin`; its exit code and output. */
function anteroom(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'anteroom.js'), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ANTEROOM_DATA_DIR: '' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code: code ?? -1, out, err })));
}

function login(live: LiveServer, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(`${live.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('built-in accounts', () => {
  it('users add (stdin or --password-file) and remove through the real CLI; login sets an HttpOnly cookie the upgrade honours', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    expect(await anteroom(['users', 'add', 'alice', '--data-dir', dir], 'wonderland\n')).toMatchObject({ code: 0, out: 'added alice\n' });
    writeFileSync(join(dir, 'pw.txt'), 'looking-glass\n');
    expect(await anteroom(['users', 'add', 'bob', `--data-dir=${dir}`, '--password-file', join(dir, 'pw.txt')])).toMatchObject({ code: 0, out: 'added bob\n' });
    expect(await anteroom(['users', 'list', '--data-dir', dir])).toMatchObject({ code: 0, out: 'alice\nbob\n' });

    const live = await startServer(['--data-dir', dir, '--auth-required']);
    const ok = await login(live, { username: 'alice', password: 'wonderland' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ user: 'alice' });
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^anteroom_auth=[\w-]+\.[\w-]+\.[\w-]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+$/);
    const cookie = setCookie.split(';')[0]!;

    await TestClient.placed(live.url, { headers: { cookie } });
    const runtime = live.server.rooms.get('main')!.runtime;
    expect(runtime.identityOf([...runtime.connectionIds()][0]!)).toEqual({ user: 'alice', name: 'alice', authenticated: true });
    // Required sign-in: no cookie, no WebSocket.
    await expect(TestClient.open(live.url)).rejects.toThrow(/401/);

    expect((await login(live, { username: 'bob', password: 'looking-glass' })).status).toBe(200);
    expect(await anteroom(['users', 'remove', 'bob', '--data-dir', dir])).toMatchObject({ code: 0, out: 'removed bob\n' });
    expect((await login(live, { username: 'bob', password: 'looking-glass' })).status).toBe(401);
    expect(JSON.stringify(live.server.log.since(0, 1000))).not.toContain('wonderland');
  });

  it('refuses a wrong password and an unknown user alike; logout clears the cookie', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    await anteroom(['users', 'add', 'alice', '--data-dir', dir], 'wonderland');
    const live = await startServer(['--data-dir', dir, '--trust-proxy']);
    const wrong = await login(live, { username: 'alice', password: 'nope' });
    const unknown = await login(live, { username: 'mallory', password: 'nope' });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await wrong.json()).toEqual(await unknown.json());
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const out = await fetch(`${live.httpUrl}/api/logout`, { method: 'POST' });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toBe('anteroom_auth=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0');
    // Behind a trusted proxy that says the visitor used https, the cookie is Secure.
    const secure = await fetch(`${live.httpUrl}/api/logout`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.headers.get('set-cookie')).toBe('anteroom_auth=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure');
    expect((await fetch(`${live.httpUrl}/api/login`)).status).toBe(405);
  });

  it('answers 400 to wrong content, 413 to a large body, and 429 with Retry-After past the per-address rate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    const live = await startServer(['--data-dir', dir]);
    expect((await login(live, { username: 'a', password: 'b' }, 'text/plain')).status).toBe(400);
    expect((await login(live, '{not json')).status).toBe(400);
    expect((await login(live, { username: 7, password: 'b' })).status).toBe(400);
    expect((await login(live, { username: 'a b', password: 'b' })).status).toBe(400);
    expect((await login(live, { username: 'a', password: 'b'.repeat(5000) })).status).toBe(413);
    // Five attempts per address at once (all spent above): the next waits.
    const limited = await login(live, { username: 'a', password: 'b' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('without a data dir, login says accounts need one, and users add exits 2 in one line', async () => {
    const live = await startServer();
    const response = await login(live, { username: 'alice', password: 'x' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'no_accounts' });
    const noDir = await anteroom(['users', 'add', 'alice'], 'pw');
    expect(noDir.code).toBe(2);
    expect(noDir.err).toMatch(/^anteroom: users: accounts live in a data dir: give --data-dir <dir>\n$/);
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    expect(await anteroom(['users', 'remove', 'nobody', '--data-dir', dir])).toMatchObject({ code: 2, err: 'anteroom: users remove: no account named nobody\n' });
    expect(await anteroom(['users', 'add', 'alice', '--data-dir', dir], '')).toMatchObject({ code: 2 });
  });
});

describe('login rate per address', () => {
  it('counts an IPv6 client by its /64, the block one subscriber holds, so new addresses in it are no new attempts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    const live = await startServer(['--data-dir', dir, '--trust-proxy']);
    const from = (address: string) =>
      fetch(`${live.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify({ username: 'a', password: 'b' }) });
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push((await from(`2001:db8:0:7::${i.toString(16)}:1`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // Written another way, the same block is the same client; the next block is another one.
    expect((await from('2001:0DB8:0000:0007:ffff:ffff:ffff:ffff')).status).toBe(429);
    expect((await from('2001:db8:0:8::1')).status).toBe(401);
    // IPv4 clients are still one address each.
    expect((await from('192.0.2.1')).status).toBe(401);
  });
});

describe('logins at once', () => {
  it('checks a few passwords at a time and answers 503 busy with Retry-After past a bounded line, whatever the addresses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    const live = await startServer(['--data-dir', dir, '--trust-proxy']);
    // Each from its own address, well within its own rate: only the bound on checks at once stops them.
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${live.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` }, body: JSON.stringify({ username: 'a', password: 'b' }) }),
      ),
    );
    const busy = responses.filter((response) => response.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]!.headers.get('retry-after')).toBe('1');
    expect(await busy[0]!.json()).toMatchObject({ error: 'busy' });
    expect(responses.every((response) => response.status === 401 || response.status === 503)).toBe(true);
  }, 30_000);
});

describe('logout from another site', () => {
  it("refuses with 403 a logout a page of another origin sends (a form can post it), and clears nothing", async () => {
    const live = await startServer(['--data-dir', mkdtempSync(join(tmpdir(), 'anteroom-users-'))]);
    const logout = (origin?: string) => fetch(`${live.httpUrl}/api/logout`, { method: 'POST', headers: origin === undefined ? {} : { origin } });
    const foreign = await logout('https://evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('set-cookie')).toBeNull();
    expect((await logout(live.httpUrl)).status).toBe(200);
    expect((await logout()).status).toBe(200);
  });
});

describe('a removed account', () => {
  it('is signed out at once: its login cookie no longer opens a socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anteroom-users-'));
    await anteroom(['users', 'add', 'bob', '--data-dir', dir], 'looking-glass\n');
    const live = await startServer(['--data-dir', dir, '--auth-required']);
    const cookie = (await login(live, { username: 'bob', password: 'looking-glass' })).headers.get('set-cookie')!.split(';')[0]!;
    (await TestClient.open(live.url, { headers: { cookie } })).terminate();
    expect(await anteroom(['users', 'remove', 'bob', '--data-dir', dir])).toMatchObject({ code: 0 });
    await expect(TestClient.open(live.url, { headers: { cookie } })).rejects.toThrow(/401/);
  });
});

describe('a login body cut off by the client', () => {
  it('is the client leaving, not a server fault: nothing is logged as an error', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const live = await startServer(['--data-dir', mkdtempSync(join(tmpdir(), 'anteroom-users-'))], { logger });
    const socket = connect(Number(new URL(live.httpUrl).port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.write('POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user', () => resolve()));
    // A request sent after it is answered after the server has read it.
    expect((await fetch(`${live.httpUrl}/healthz`)).status).toBe(200);
    socket.destroy();
    // The server is still there and answers the next login; no line of the cut one says error.
    const next = await login(live, { username: 'a', password: 'b' });
    expect(next.status).toBe(401);
    expect(lines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});
