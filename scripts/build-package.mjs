#!/usr/bin/env node
// Builds what the published package runs: the sources compiled to dist/ with type declarations, the pages'
// assets beside them, and the client library bundled for browsers (also what the server serves at
// /assets/client.js, so an installed server needs neither tsx nor esbuild). Run by `npm run build`,
// `prepare` (npm install / npm ci in a clone) and `npm pack`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });

// Type errors are `npm test`'s to report; the build only fails when nothing could be emitted.
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', `${root}tsconfig.build.json`], {
  cwd: root,
  stdio: 'inherit',
});
if (!existsSync(`${dist}/src/cli/main.js`)) {
  process.stderr.write(`build: tsc emitted nothing (exit ${tsc.status})\n`);
  process.exit(1);
}
if (tsc.status !== 0) process.stderr.write('build: emitted despite type errors; npm run typecheck lists them\n');

cpSync(`${root}src/pages/assets`, `${dist}/src/pages/assets`, { recursive: true });

const { build } = await import('esbuild');
const { browserBundleOptions } = await import(`${dist}/src/pages/client-bundle.js`);
await build({
  ...browserBundleOptions,
  entryPoints: [`${root}src/client/index.ts`],
  outfile: `${dist}/src/pages/assets/client.js`,
  logLevel: 'warning',
});
process.stdout.write('build: dist/ written\n');
