import { spawn } from 'node:child_process';
import { createServer as createTcpServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/live-server.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'anteroom-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the server exactly as the README says, on a free port; resolves with the ready line's URL. */
function start(command: string, args: string[]) {
  const child = spawn(command, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /ws:\/\/127\.0\.0\.1:\d+/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
  });
  const signal = (name: NodeJS.Signals) => process.kill(-child.pid!, name);
  /** Ends whatever is left of the process group; nothing if it already exited. */
  const kill = () => {
    try {
      signal('SIGKILL');
    } catch {
      // already gone
    }
  };
  return { child, ready, exited, stderr: () => stderr, signal, kill };
}

/** Opens a seated client and a waiting one against `url`, checking where each was placed. */
async function seatedAndWaiting(url: string): Promise<[TestClient, TestClient]> {
  const seated = await TestClient.placed(url);
  const waiting = await TestClient.placed(url);
  expect(seated.lastStatus!.status).toBe('active');
  expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });
  return [seated, waiting];
}

const npmStart = (args: string[]) => start('npm', ['start', '--', '--port', '0', ...args]);
const anteroom = (args: string[]) => start(process.execPath, [join(root, 'bin', 'anteroom.js'), '--port', '0', ...args]);

describe('the command line', () => {
  it('npm start serves a waiting room and closes every session with 1001 on SIGTERM', async () => {
    const server = npmStart(['--capacity', '1', '--log-level', 'warn']);
    try {
      const [seated, waiting] = await seatedAndWaiting(await server.ready);
      server.signal('SIGTERM');
      expect((await seated.closed).code).toBe(1001);
      expect((await waiting.closed).code).toBe(1001);
      expect(seated.messages.find((m) => m.type === 'evicted')?.reason).toBe('shutdown');
      await server.exited;
    } finally {
      server.kill();
    }
  }, 40_000);

  it('anteroom writes its event log, exits 0 on SIGINT with the log flushed, and the log replays', async () => {
    const logFile = join(dir, 'events.jsonl');
    const server = anteroom(['--capacity', '1', '--event-log', logFile, '--log-level', 'warn']);
    try {
      const [seated, waiting] = await seatedAndWaiting(await server.ready);
      seated.send({ type: 'leave' });
      await waiting.until((s) => s.status === 'active');
      server.signal('SIGINT');
      expect((await waiting.closed).code).toBe(1001);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      server.kill();
    }
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((r) => r.kind)).toEqual(expect.arrayContaining(['room.opened', 'connected', 'admitted', 'queued', 'released']));

    const replay = spawn(process.execPath, [join(root, 'bin', 'anteroom.js'), 'replay', logFile], { cwd: root });
    let out = '';
    replay.stdout.on('data', (chunk) => (out += chunk));
    const code = await new Promise((resolve) => replay.on('exit', resolve));
    expect(out, out).toMatch(/^reproduced \d+ decisions/);
    expect(code).toBe(0);
  }, 40_000);

  it('says in one line, with exit code 2, that the port is taken or the log is missing: never a stack trace', async () => {
    const taken = createTcpServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const cases: [string[], string][] = [
        [['--port', String(port)], `anteroom: cannot listen on 127.0.0.1:${port}: the address is already in use`],
        [['replay', join(dir, 'no-such-log.jsonl')], `anteroom: ${join(dir, 'no-such-log.jsonl')}: no such file or directory`],
        [['--event-log', join(dir, 'no-such-dir', 'events.jsonl')], `anteroom: --event-log ${join(dir, 'no-such-dir', 'events.jsonl')}: cannot open the event log`],
      ];
      await Promise.all(
        cases.map(async ([args, expected]) => {
          const child = spawn(process.execPath, [join(root, 'bin', 'anteroom.js'), ...args], { cwd: root });
          let err = '';
          child.stderr.on('data', (chunk) => (err += chunk));
          const code = await new Promise((resolve) => child.on('exit', resolve));
          expect(err.split('\n').filter((line) => line !== ''), err).toHaveLength(1);
          expect(err).toContain(expected);
          expect(code).toBe(2);
        }),
      );
    } finally {
      taken.close();
    }
  }, 30_000);

  it('refuses a bad flag with a clear message and exit code 2', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'anteroom.js'), '--capacity', 'lots'], { cwd: root });
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--capacity');
    expect(err).toContain('lots');
  }, 20_000);
});
