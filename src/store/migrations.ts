/**
 * One step of the SQLite schema (`anteroom.db`). Versions are applied in ascending order, each in its own
 * transaction, and recorded in `schema_migrations`; a version once released is never edited, only followed.
 */
export interface Migration {
  version: number;
  name: string;
  /** SQL run once, inside the migration's transaction. */
  up: string;
}

/** The schema, oldest first. Append; never renumber. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts',
    up: `CREATE TABLE users (
      name TEXT PRIMARY KEY,
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;`,
  },
  {
    version: 2,
    name: 'chat history',
    up: `CREATE TABLE chat_messages (
      room TEXT NOT NULL,
      seq INTEGER NOT NULL,
      id TEXT NOT NULL,
      user TEXT NOT NULL,
      name TEXT NOT NULL,
      text TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (room, seq),
      UNIQUE (room, user, id)
    ) STRICT;`,
  },
];
