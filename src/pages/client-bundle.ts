import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

const clientEntry = fileURLToPath(new URL('../client/index.ts', import.meta.url));
/** Written by the package build next to the compiled pages; absent when running from the sources. */
const prebuiltBundle = new URL('./assets/client.js', import.meta.url);

/** How the client is bundled for browsers, here and by the package build (scripts/build-package.mjs). */
export const browserBundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
} as const satisfies BuildOptions;

let bundled: Promise<string> | null = null;

/**
 * The client library (src/client/index.ts) bundled for browsers as one ES module. An installed package serves
 * the bundle its build made; running from the sources, it is built in memory with esbuild the first time it
 * is asked for and kept for the life of the process, so serving it needs no build step.
 */
export function browserClientBundle(): Promise<string> {
  bundled ??= readFile(prebuiltBundle, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    return bundleFromSources();
  });
  // A failed build is retried on the next request rather than cached.
  bundled.catch(() => {
    bundled = null;
  });
  return bundled;
}

async function bundleFromSources(): Promise<string> {
  // Loaded only here: esbuild is a build tool, not something an installed server needs.
  const { build } = await import('esbuild');
  const result = await build({ ...browserBundleOptions, entryPoints: [clientEntry], write: false, logLevel: 'silent' });
  return result.outputFiles[0]!.text;
}
