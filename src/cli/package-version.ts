import { readFileSync } from 'node:fs';

/**
 * The version in anteroom's package.json. The file is found by walking up from this module, which sits two
 * levels down in the sources (src/cli) and three in the build (dist/src/cli).
 */
export function packageVersion(): string {
  for (let up = '../../'; up.length <= 12; up += '../') {
    try {
      const manifest = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'anteroom-server' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // Not at this level; look further up.
    }
  }
  return 'unknown';
}
