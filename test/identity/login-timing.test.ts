import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, startServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

/** Every scrypt the server runs, counted (the derivation itself is node's). */
const derivations = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (original) => {
  const crypto = await original<typeof import('node:crypto')>();
  return {
    ...crypto,
    scrypt: (...args: Parameters<typeof crypto.scrypt>) => {
      derivations.count++;
      return (crypto.scrypt as (...a: unknown[]) => void)(...args);
    },
  };
});

afterEach(closeAll);

describe('login work for an unknown name', () => {
  it('is one scrypt, like a wrong password, even for the first login after a start', async () => {
    const live = await startServer(['--data-dir', mkdtempSync(join(tmpdir(), 'anteroom-users-'))]);
    // The decoy is made as the server starts: that is not a login's work.
    await waitFor('the decoy hash to be made', () => derivations.count === 1);
    const before = derivations.count;
    const response = await fetch(`${live.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'x' }) });
    expect(response.status).toBe(401);
    expect(derivations.count - before).toBe(1);
  });
});
