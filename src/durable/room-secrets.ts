import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The ticket secrets of rooms an operator created at run time (`PUT /api/rooms/<room>` with `ticketSecret`):
 * kept in `<data-dir>/room-secrets.json` (0600), never in the event log, so such a room comes back after a
 * restart able to verify its join tickets. Each change rewrites the file whole (temporary file, fsync, rename).
 */
export class RoomSecrets {
  private readonly path: string;
  private readonly secrets: Map<string, string>;

  /** Reads the directory's file; none yet is an empty set. Throws on a file that is not this file's JSON. */
  constructor(dir: string) {
    this.path = join(dir, 'room-secrets.json');
    const stored = existsSync(this.path) ? (JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, unknown>) : {};
    this.secrets = new Map(Object.entries(stored).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }

  get(room: string): string | undefined {
    return this.secrets.get(room);
  }

  /** Keeps (or, with undefined, forgets) a room's ticket secret, on disk before it returns. */
  set(room: string, secret: string | undefined): void {
    if (this.secrets.get(room) === secret) return;
    if (secret === undefined) this.secrets.delete(room);
    else this.secrets.set(room, secret);
    const temporary = `${this.path}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(Object.fromEntries(this.secrets)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
  }
}
