import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anteroomCommand } from '../../src/cli/anteroom-command.js';
import { TestClient } from '../support/live-server.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'anteroom-datadir-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function anteroom(args: string[]) {
  const child = spawn(process.execPath, [join(root, 'bin', 'anteroom.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', () => {
      const match = /ws:\/\/127\.0\.0\.1:\d+/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
  });
  return { child, exited, ready, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}

/** Runs a subcommand in-process and returns what it printed and its exit code. */
async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = { write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream;
  const code = await anteroomCommand(args, sink);
  return { code, out };
}

describe('anteroom with a data dir', () => {
  it('refuses a second server on the directory with exit 2; SIGTERM closes 1012; replay and inspect-data read the directory', async () => {
    const dir = join(scratch, 'data');
    const first = anteroom(['--port', '0', '--data-dir', dir, '--capacity', '1', '--heartbeat-timeout', '60000', '--log-level', 'warn']);
    try {
      const url = await first.ready;
      const seated = await TestClient.placed(url);
      const waiting = await TestClient.placed(url);
      expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });

      const second = anteroom(['--port', '0', '--data-dir', dir]);
      expect(await second.exited).toBe(2);
      expect(second.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^anteroom: --data-dir .*: in use by another anteroom server \(pid \d+\)/)]);

      first.child.kill('SIGTERM');
      expect((await seated.closed).code).toBe(1012);
      expect((await waiting.closed).code).toBe(1012);
      expect(await first.exited).toBe(0);
    } finally {
      first.kill();
    }

    const replayed = await run(['replay', dir]);
    expect(replayed.out).toMatch(/reproduced \d+ decisions/);
    expect(replayed.code).toBe(0);
    const inspected = await run(['inspect-data', dir]);
    expect(inspected.code).toBe(0);
    expect(inspected.out).toContain('lock: free');
    expect(inspected.out).toMatch(/snapshots: 1\n/);
    expect(inspected.out).toContain('room main: open, capacity 1');
    expect(inspected.out).toContain('seats: 1 taken (1 held for a resume)');
    expect(inspected.out).toContain('line: 1 places (1 held for a resume)');
  }, 40_000);
});
