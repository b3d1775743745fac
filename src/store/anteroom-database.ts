import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { migrations as schema, type Migration } from './migrations.js';

/** The SQLite database of a server: accounts and chat history. */
export type AnteroomDatabase = Database.Database;

/** The database file's name inside a data dir. */
export const databaseFileName = 'anteroom.db';

/**
 * Opens `<dataDir>/anteroom.db` (WAL, synchronous=NORMAL), or an in-memory database when `dataDir` is null, and
 * brings its schema up to date. Throws ConfigError when the file cannot be opened or was written by a newer
 * anteroom (a schema version this one does not know).
 */
export function openAnteroomDatabase(dataDir: string | null, migrations: readonly Migration[] = schema): AnteroomDatabase {
  let db: AnteroomDatabase;
  try {
    if (dataDir !== null) {
      // It holds password hashes: the owner's alone, like the data dir's secrets. SQLite gives its WAL and
      // shared-memory files the database file's permissions, so making the file first covers them too.
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      closeSync(openSync(join(dataDir, databaseFileName), 'a', 0o600));
    }
    db = new Database(dataDir === null ? ':memory:' : join(dataDir, databaseFileName));
    if (dataDir !== null) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw new ConfigError(`cannot open the database in ${dataDir}: ${(error as Error).message}`);
  }
  migrate(db, migrations);
  return db;
}

/** The schema version a database is at (0 for a new one). */
export function schemaVersion(db: AnteroomDatabase): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

/** Applies every migration above the database's version, each in one transaction. Throws ConfigError on a newer schema. */
export function migrate(db: AnteroomDatabase, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  const known = migrations.reduce((max, step) => Math.max(max, step.version), 0);
  if (current > known) {
    db.close();
    throw new ConfigError(`the database is at schema version ${current}, newer than this anteroom knows (${known}): upgrade anteroom`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
    if (step.version <= current) continue;
    db.transaction(() => {
      db.exec(step.up);
      record.run(step.version, step.name, Date.now());
    })();
  }
}
