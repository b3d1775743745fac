import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, TestClient, type LiveServer } from '../support/live-server.js';

const root = join(import.meta.dirname, '..', '..');
const example = readFileSync(join(root, 'examples', 'wait-in-line.ts'), 'utf8');
let live: LiveServer | undefined;
let exampleRun: ChildProcess | undefined;

afterEach(async () => {
  // A failed run must not leave the example waiting in line.
  if (exampleRun && exampleRun.exitCode === null) exampleRun.kill('SIGKILL');
  exampleRun = undefined;
  await live?.close();
  live = undefined;
});

describe('the README example', () => {
  it('is the file examples/wait-in-line.ts, word for word', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(example.trim());
  });

  it('waits in line, is admitted, and leaves', async () => {
    live = await startServer(['--capacity', '1']);
    const seated = await TestClient.open(live.url);
    await seated.next((m) => m.type === 'status');
    // The package resolves its own name; the anteroom-source condition picks the sources over the build.
    const child = (exampleRun = spawn(process.execPath, ['--conditions=anteroom-source', '--import', 'tsx', join(root, 'examples', 'wait-in-line.ts')], {
      cwd: root,
      env: { ...process.env, ANTEROOM_URL: live.url },
    }));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 200 && !out.includes('in line: 1 of 1'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('in line: 1 of 1');
    seated.send({ type: 'leave' });
    expect(await exited).toBe(0);
    expect(out).toMatch(/admitted until \d{4}-/);
  }, 20_000);
});

describe('the protected-site example', () => {
  it('is the file examples/protected-site.mjs, word for word, in docs/site-integration.md', () => {
    const doc = readFileSync(join(root, 'docs', 'site-integration.md'), 'utf8');
    expect(doc).toContain(readFileSync(join(root, 'examples', 'protected-site.mjs'), 'utf8').trim());
  });
});
