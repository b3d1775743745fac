import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TestClient } from '../support/live-server.js';

const root = join(import.meta.dirname, '..', '..');

describe('anteroom --inspect', () => {
  it('prints the inspector address after the ready line, streams to it, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'anteroom.js'), '--port', '0', '--inspect', '--log-level', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let stdout = '';
      const lines = await new Promise<string[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no inspector line in 20 s: ${stdout}`)), 20_000);
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
          if (/XState inspector: open http:\/\/127\.0\.0\.1:\d+\/ in a browser\n/.test(stdout)) {
            clearTimeout(timer);
            resolve(stdout.trim().split('\n'));
          }
        });
      });
      expect(lines[0]).toMatch(/^anteroom listening on ws:\/\/127\.0\.0\.1:\d+ /);
      // Only the ready line carries a ws:// address, so scripts that look for it find the server.
      expect(lines.filter((line) => line.includes('ws://'))).toHaveLength(1);
      const serverUrl = /ws:\/\/127\.0\.0\.1:\d+/.exec(lines[0]!)![0];
      const inspectorPort = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(lines[1]!)![1];

      const receiver = new WebSocket(`ws://127.0.0.1:${inspectorPort}`);
      const types: string[] = [];
      receiver.on('message', (data) => types.push(JSON.parse(data.toString()).type));
      await new Promise((resolve, reject) => receiver.once('open', resolve).once('error', reject));
      const client = await TestClient.open(serverUrl);
      await client.next((m) => m.type === 'status');
      const deadline = Date.now() + 5000;
      while (!types.includes('@xstate.event') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(types).toContain('@xstate.actor');
      expect(types).toContain('@xstate.event');
      receiver.close();

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect((await client.closed).code).toBe(1001);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 40_000);
});
