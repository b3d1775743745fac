import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../support/capture-output.js';
import { anteroomCommand } from '../../src/cli/anteroom-command.js';
import { failureReport } from '../../src/cli/failure-report.js';
import { ConfigError } from '../../src/config/config-error.js';

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const { out, text } = captureOutput();
  const code = await anteroomCommand(argv, out);
  return { code, out: text() };
}

describe('anteroom', () => {
  it('prints its version with --version, also after serve and other flags', async () => {
    for (const argv of [['--version'], ['serve', '--version'], ['--port', '1', '--version']]) {
      expect(await run(argv)).toEqual({ code: 0, out: `anteroom ${manifest.version}\n` });
    }
  });

  it('names serve and --version in its usage, and answers --help after serve too', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: anteroom \[serve\] \[flags\]/);
    expect(help.out).toContain('anteroom --version');
    expect(await run(['serve', '--help'])).toEqual(help);
  });
});

describe('failureReport', () => {
  const systemError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

  it.each([
    [new ConfigError('--capacity must be a whole number >= 0, got "lots"'), 'anteroom: --capacity must be a whole number >= 0, got "lots"\n', 2],
    [
      systemError("ENOENT: no such file or directory, open 'events.jsonl'", { code: 'ENOENT', syscall: 'open', path: 'events.jsonl' }),
      'anteroom: events.jsonl: no such file or directory\n',
      2,
    ],
    [
      systemError('listen EADDRINUSE: address already in use ::1:8080', { code: 'EADDRINUSE', syscall: 'listen', address: '::1', port: 8080 }),
      'anteroom: [::1]:8080: the address is already in use\n',
      2,
    ],
    [new Error('events.jsonl:3: not JSON'), 'anteroom: events.jsonl:3: not JSON\n', 1],
  ])('words %s as one line', (error, text, exitCode) => {
    expect(failureReport(error)).toEqual({ text, exitCode });
  });

  it('keeps the stack of a fault in anteroom itself', () => {
    const report = failureReport(new TypeError('cannot read properties of undefined'));
    expect(report.exitCode).toBe(1);
    expect(report.text).toMatch(/^anteroom: internal error: TypeError: cannot read properties of undefined\n\s+at /);
  });
});
