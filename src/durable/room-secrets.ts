import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { syncDirectorySync, writeTemporarySync } from './data-dir-files.js';

/**
 * The ticket secrets of rooms an operator created at run time (`PUT /api/rooms/<room>` with `ticketSecret`):
 * kept in `<data-dir>/room-secrets.json` (0600), never in the event log, so such a room comes back after a
 * restart able to verify its join tickets. Each change rewrites the file whole (temporary file, fsync, rename, directory fsync).
 */
export class RoomSecrets {
  private readonly path: string;
  private secrets: Map<string, string>;

  /** Reads the directory's file; none yet is an empty set. Throws ConfigError for a file it cannot use. */
  constructor(private readonly dir: string) {
    this.path = join(dir, 'room-secrets.json');
    this.secrets = existsSync(this.path) ? readSecrets(this.path) : new Map();
  }

  get(room: string): string | undefined {
    return this.secrets.get(room);
  }

  /** Keeps (or, with undefined, forgets) a room's ticket secret, on disk before it returns. */
  set(room: string, secret: string | undefined): void {
    if (this.secrets.get(room) === secret) return;
    const next = new Map(this.secrets);
    if (secret === undefined) next.delete(room);
    else next.set(room, secret);
    // On disk first: a failed write leaves the set as it was, so the same call can be tried again.
    renameSync(writeTemporarySync(this.path, JSON.stringify(Object.fromEntries(next))), this.path);
    syncDirectorySync(this.dir);
    this.secrets = next;
  }
}

/** The file's room-to-secret map; ConfigError (naming the file, never its text) when it is not one. */
function readSecrets(path: string): Map<string, string> {
  let stored: unknown;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw unusable(path);
  }
  const entries = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? Object.entries(stored) : null;
  if (entries === null || entries.some(([, secret]) => typeof secret !== 'string')) {
    throw unusable(path);
  }
  return new Map(entries as [string, string][]);
}

function unusable(path: string): ConfigError {
  return new ConfigError(`${path} is not a JSON object of room ticket secrets; restore it from a backup, or delete it (those rooms then take no tickets)`);
}
