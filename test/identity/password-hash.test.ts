import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/identity/password-hash.js';

// A low cost keeps the tests fast; the parameters travel in the stored form, so verify reads them from there.
const cheap = { N: 1024, r: 8, p: 1 };

describe('password hashes (scrypt)', () => {
  it('verifies the password it was made from and no other', async () => {
    const stored = await hashPassword('correct horse battery staple', cheap);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('stores the parameters and a fresh salt, never the password', async () => {
    const one = await hashPassword('hunter2', cheap);
    const two = await hashPassword('hunter2', cheap);
    expect(one).toMatch(/^scrypt\$1024\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(one).not.toContain('hunter2');
    expect(one).not.toBe(two);
    expect(await verifyPassword('hunter2', two)).toBe(true);
  });

  it('uses the default cost when none is given', async () => {
    expect(await hashPassword('x')).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('compares Unicode passwords in one normal form', async () => {
    const stored = await hashPassword('caf\u00e9', cheap);
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true);
  });

  it('never matches (nor throws on) a stored form it does not write', async () => {
    const stored = await hashPassword('pw', cheap);
    const [, n, r, p, salt, key] = stored.split('$');
    for (const bad of ['', 'pw', `bcrypt$${n}$${r}$${p}$${salt}$${key}`, `scrypt$${n}$${r}$${p}$${salt}`, `scrypt$0$${r}$${p}$${salt}$${key}`, `scrypt$${n}$${r}$${p}$${salt}$${key!.slice(2)}`, `scrypt$1073741824$8$1$${salt}$${key}`]) {
      expect(await verifyPassword('pw', bad), bad).toBe(false);
    }
  });
});
