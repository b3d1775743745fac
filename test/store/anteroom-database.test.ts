import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { migrate, openAnteroomDatabase, schemaVersion } from '../../src/store/anteroom-database.js';
import { migrations } from '../../src/store/migrations.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'anteroom-db-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('openAnteroomDatabase', () => {
  it('brings a new database to the latest schema version', () => {
    const db = openAnteroomDatabase(null);
    expect(schemaVersion(db)).toBe(Math.max(...migrations.map((m) => m.version)));
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'chat_messages'").get()).toBeTruthy();
    db.close();
  });

  it('keeps what was written across a reopen of the same data dir, applying no migration twice', () => {
    const dir = tempDir();
    const first = openAnteroomDatabase(dir);
    first.prepare('INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)').run('ada', 'hash', 1);
    first.close();
    const again = openAnteroomDatabase(dir);
    expect(again.prepare('SELECT name FROM users').all()).toEqual([{ name: 'ada' }]);
    expect(again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: migrations.length });
    again.close();
  });

  it('applies only the migrations above the current version', () => {
    const db = openAnteroomDatabase(null, migrations.slice(0, 1));
    expect(schemaVersion(db)).toBe(1);
    migrate(db, migrations);
    expect(schemaVersion(db)).toBe(2);
    db.close();
  });

  it('refuses a database written by a newer schema', () => {
    const dir = tempDir();
    openAnteroomDatabase(dir, [...migrations, { version: 99, name: 'future', up: 'CREATE TABLE future (x INTEGER)' }]).close();
    expect(() => openAnteroomDatabase(dir)).toThrow(ConfigError);
    expect(() => openAnteroomDatabase(dir)).toThrow(/schema version 99/);
  });

  it('rolls back a migration that fails, leaving the version where it was', () => {
    const db = openAnteroomDatabase(null, migrations.slice(0, 1));
    expect(() => migrate(db, [...migrations.slice(0, 1), { version: 2, name: 'broken', up: 'CREATE TABLE t (x); NOT SQL' }])).toThrow();
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined();
    db.close();
  });
});
