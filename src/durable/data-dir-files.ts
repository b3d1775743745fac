import { closeSync, fsyncSync, openSync, readdirSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** A data dir file named by a number (`log-<seq>.jsonl`, `snapshot-<seq>.json`): its path, name and number. */
export interface NumberedFile {
  path: string;
  name: string;
  number: number;
}

/** The 12-digit zero-padded form of a seq in a data dir file name, so names sort as their numbers do. */
export function paddedSeq(seq: number): string {
  return String(seq).padStart(12, '0');
}

/** The files of `dir` whose name `pattern` matches, numbered by its first group, in ascending order. */
export function listNumberedFiles(dir: string, pattern: RegExp): NumberedFile[] {
  return readdirSync(dir)
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ name, match }) => ({ path: join(dir, name), name, number: Number(match[1]) }))
    .sort((a, b) => a.number - b.number);
}

/**
 * The first half of putting a small file in place whole: `text` written to `<path>.tmp` (0600) and fsynced.
 * Returns the temporary path, for the caller to rename or link into place and then `syncDirectorySync`.
 */
export function writeTemporarySync(path: string, text: string): string {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temporary;
}

/** fsyncs a directory, so a file created or renamed in it is durable (a no-op where directories cannot be opened). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms refuse to open or sync a directory; the data itself is synced.
  } finally {
    await handle?.close();
  }
}

/** `syncDirectory` for the small files written on a request's turn (secrets), where waiting is cheap. */
export function syncDirectorySync(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // As in `syncDirectory`: the data itself is synced.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
