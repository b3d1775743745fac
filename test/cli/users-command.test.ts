import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { usersCommand } from '../../src/cli/users-command.js';
import { ConfigError } from '../../src/config/config-error.js';
import { closeAll, startServer } from '../support/live-server.js';

afterEach(closeAll);

/** `anteroom users …` in process, with `password` on stdin. */
function users(args: string[], password = ''): Promise<number> {
  const stdin = new PassThrough();
  stdin.end(password);
  return usersCommand(args, new PassThrough(), stdin);
}

/** The permission bits others than the owner have on `path`. */
const othersBits = (path: string) => statSync(path).mode & 0o077;

describe('anteroom users', () => {
  it('keeps the password hashes to the owner: a data dir it makes is 0700, the database and its WAL files 0600', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'anteroom-users-')), 'data');
    expect(await users(['add', 'alice', '--data-dir', dir], 'wonderland\n')).toBe(0);
    expect(othersBits(dir)).toBe(0);
    expect(othersBits(join(dir, 'anteroom.db'))).toBe(0);
    // The server that then runs on the directory writes the WAL beside it, as private as the database.
    await startServer(['--data-dir', dir]);
    for (const file of ['anteroom.db', 'anteroom.db-wal', 'anteroom.db-shm']) expect(othersBits(join(dir, file)), file).toBe(0);
  });

  it('makes nothing when the password is refused', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'anteroom-users-')), 'data');
    await expect(users(['add', 'alice', '--data-dir', dir], '\n')).rejects.toThrow(ConfigError);
    await expect(users(['add', 'alice', '--data-dir', dir, '--password-file', join(dir, 'missing.txt')])).rejects.toThrow(ConfigError);
    expect(existsSync(dir)).toBe(false);
  });

  it('lists or removes only in a data dir that exists: a mistyped path is an error, not a new empty one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'anteroom-users-')), 'typo');
    await expect(users(['list', '--data-dir', dir])).rejects.toThrow(new ConfigError(`users: there is no data dir at ${dir}`));
    await expect(users(['remove', 'alice', '--data-dir', dir])).rejects.toThrow(ConfigError);
    expect(existsSync(dir)).toBe(false);
  });
});
