import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveFlags } from '../../src/config/server-config.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

describe('docs/configuration.md', () => {
  it('lists every flag with its environment variable and default, as the code has them', () => {
    for (const flag of serveFlags) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${flag.flag}`));
      expect(row, `${flag.flag} is missing from docs/configuration.md`).toBeDefined();
      expect(row).toContain(`\`${flag.env}\``);
      expect(row).toContain(`| ${flag.defaultText} |`);
    }
  });

  it('documents no flag the code does not have', () => {
    const documented = [...doc.matchAll(/^\| `(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(serveFlags.map((f) => f.flag).sort());
  });
});
