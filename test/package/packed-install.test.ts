import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'anteroom-pack-'));
let server: ChildProcess | undefined;

afterAll(async () => {
  if (server?.exitCode === null) {
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** The environment without the npm_* variables of the npm running this test, so each npm here stands alone. */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));

function run(command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(command, args, { cwd, env: { ...env, ...extraEnv } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/**
 * An empty app that depends on the tarball, locked to the versions this project's own lockfile resolves for
 * its runtime dependencies: `npm ci --offline` then installs from npm's cache alone, never the network.
 */
function writeApp(app: string, tarball: string): void {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const spec = `file:../${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { 'anteroom-server': spec } },
    'node_modules/anteroom-server': {
      version: manifest.version,
      resolved: spec,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [path, entry] of Object.entries<{ dev?: boolean; devOptional?: boolean }>(lock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { 'anteroom-server': spec } }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }));
}

/** A site's own script, plain JavaScript: the server API and both client entries by their package names. */
const siteScript = `
import { createAnteroomServer, parseServeArgs } from 'anteroom-server';
import { WaitingRoomClient } from 'anteroom-server/client';
import { createNodeClient } from 'anteroom-server/client/node';
const client = createNodeClient({ url: process.env.ANTEROOM_URL });
client.on('admitted', ({ token }) => {
  console.log([typeof createAnteroomServer, typeof parseServeArgs, client instanceof WaitingRoomClient, token.split('.').length].join(' '));
  client.leave();
});
client.connect();
`;

function readyUrl(child: ChildProcess): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /ws:\/\/127\.0\.0\.1:\d+/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
  });
}

describe('the npm package', () => {
  it('packs compiled JavaScript with declarations, installs offline, serves with npx anteroom, and imports from plain .mjs', async () => {
    // Packed from a copy, so its build cannot disturb this checkout while other tests run.
    const project = join(work, 'project');
    for (const entry of ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'bin', 'src', 'machines']) {
      cpSync(join(root, entry), join(project, entry), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'));
    const packed = await run('npm', ['pack', '--pack-destination', work], project);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = packed.stdout.trim().split('\n').at(-1)!;

    const listing = await run('tar', ['-tzf', join(work, tarball)], work);
    const files = listing.stdout.split('\n').filter(Boolean).map((file) => file.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['bin/anteroom.js', 'dist/src/cli/main.js', 'dist/src/pages/assets/client.js']));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);

    const app = join(work, 'app');
    writeApp(app, tarball);
    const installed = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    expect(installed.code, installed.stderr).toBe(0);
    const installedPackage = join(app, 'node_modules', 'anteroom-server');
    const exportsMap: Record<string, string | Record<string, string>> = JSON.parse(readFileSync(join(installedPackage, 'package.json'), 'utf8')).exports;
    for (const [entry, target] of Object.entries(exportsMap)) {
      const paths = typeof target === 'string' ? [target] : [target.types, target.default].filter((path) => path !== undefined);
      for (const path of paths) expect(existsSync(join(installedPackage, path!)), `${entry} → ${path}`).toBe(true);
    }
    expect(existsSync(join(app, 'node_modules', 'tsx')), 'tsx is not needed at run time').toBe(false);

    server = spawn('npx', ['--offline', '--', 'anteroom', '--port', '0', '--log-level', 'warn'], { cwd: app, env, detached: true });
    const exited = new Promise<void>((resolve) => server!.on('exit', () => resolve()));
    const url = await readyUrl(server);
    const bundle = await (await fetch(`${url.replace('ws://', 'http://')}/assets/client.js`)).text();
    expect(bundle).toBe(readFileSync(join(installedPackage, 'dist', 'src', 'pages', 'assets', 'client.js'), 'utf8'));

    writeFileSync(join(app, 'site.mjs'), siteScript);
    const site = await run(process.execPath, ['site.mjs'], app, { ANTEROOM_URL: url });
    expect(site.stderr).toBe('');
    expect(site.stdout).toBe('function function true 3\n');

    // npx itself dies of the signal; the point is that the whole group stops.
    process.kill(-server.pid!, 'SIGTERM');
    await exited;
  }, 120_000);
});
