import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const clientEntry = fileURLToPath(new URL('../client/index.ts', import.meta.url));

let bundled: Promise<string> | null = null;

/**
 * The client library (src/client/index.ts) bundled for browsers as one ES module, built in memory with
 * esbuild the first time it is asked for and kept for the life of the process: serving it needs no build step.
 */
export function browserClientBundle(): Promise<string> {
  bundled ??= build({
    entryPoints: [clientEntry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]!.text);
  // A failed build is retried on the next request rather than cached.
  bundled.catch(() => {
    bundled = null;
  });
  return bundled;
}
