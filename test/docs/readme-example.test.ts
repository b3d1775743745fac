import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

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

describe('the README chat example', () => {
  const chatExample = join(root, 'examples', 'chat-in-room.ts');

  it('is the file examples/chat-in-room.ts, word for word', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(readFileSync(chatExample, 'utf8').trim());
  });

  it('shows the room, says each line typed, and leaves when the input ends', async () => {
    live = await startServer(['--chat', '--capacity', '5', '--heartbeat-timeout', '20000']);
    const other = await TestClient.open(live.url);
    await other.next((m) => m.type === 'history');
    other.send({ type: 'say', id: 'greeting', text: 'welcome' });
    await other.next((m) => m.type === 'message' && m.id === 'greeting');
    const child = (exampleRun = spawn(process.execPath, ['--conditions=anteroom-source', '--import', 'tsx', chatExample], {
      cwd: root,
      env: { ...process.env, ANTEROOM_URL: live.url },
    }));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 200 && !out.includes(': welcome'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/^here: Guest .+, Guest /m);
    expect(out).toMatch(/^Guest .+: welcome$/m);
    child.stdin.write('hello from the example\n');
    const said = await other.next((m) => m.type === 'message' && m.text === 'hello from the example');
    expect(said.from.name).toMatch(/^Guest /);
    // The example shows its own message too, when the room's copy comes back.
    await waitFor('the example shows its own message', () => out.includes(`${said.from.name}: hello from the example\n`), 10_000);
    child.stdin.end();
    expect(await exited).toBe(0);
  }, 20_000);
});
