import type { AnteroomDatabase } from '../store/anteroom-database.js';

/** Account names: 1 to 64 letters, digits, `.`, `_`, `-` or `@` (they are the `sub` of login tokens). */
export const accountNamePattern = /^[A-Za-z0-9._@-]{1,64}$/;

/** The built-in accounts (`users` table, migration 1): name and scrypt hash, never the password. */
export class UserAccounts {
  constructor(private readonly db: AnteroomDatabase) {}

  /** Adds or replaces the account `name` with a stored password hash. Returns whether it existed before. */
  set(name: string, passwordHash: string, now = Date.now()): boolean {
    const existed = this.passwordHashOf(name) !== null;
    this.db
      .prepare('INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash')
      .run(name, passwordHash, now);
    return existed;
  }

  /** Removes the account; false when there was none. */
  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0;
  }

  /** The stored hash of `name`, or null when there is no such account. */
  passwordHashOf(name: string): string | null {
    const row = this.db.prepare('SELECT password_hash FROM users WHERE name = ?').get(name) as { password_hash: string } | undefined;
    return row?.password_hash ?? null;
  }

  /** Every account name, sorted. */
  names(): string[] {
    return (this.db.prepare('SELECT name FROM users ORDER BY name').all() as { name: string }[]).map((row) => row.name);
  }
}
