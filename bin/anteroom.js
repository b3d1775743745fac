#!/usr/bin/env node
// In a clone the TypeScript sources are here and run through tsx, so the command always runs what is checked
// out; an installed package has only its compiled build (dist/), which runs on plain Node.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/src/cli/main.js');
}
