import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdmissionSnapshot } from '../../machines/admission/admission-snapshot.js';
import type { RoomConfig } from '../config/server-config.js';
import { listNumberedFiles, paddedSeq, syncDirectory } from './data-dir-files.js';

/** The snapshot format this release writes and reads. */
export const snapshotFormatVersion = 1;

/** One room in a snapshot: its settings as last started and its admission state. */
export interface RoomSnapshot {
  name: string;
  settings: RoomConfig;
  admission: AdmissionSnapshot;
  /** Set for a room an operator created at run time: a restart serves it though no configuration names it. */
  createdBy?: 'operator';
}

/** Every room as the log left it after record `seq`. */
export interface DataDirSnapshot {
  seq: number;
  /** When it was taken, ms epoch. */
  at: number;
  rooms: RoomSnapshot[];
  /** Rooms an operator removed: a restart does not serve them again though the configuration names them. */
  removed?: string[];
}

/** A snapshot file that cannot be used (torn, edited, of another format): recovery falls back to an older one. */
export class SnapshotCorruptError extends Error {}

const snapshotPattern = /^snapshot-(\d{12})\.json$/;

export interface SnapshotFile {
  path: string;
  name: string;
  seq: number;
}

export function snapshotName(seq: number): string {
  return `snapshot-${paddedSeq(seq)}.json`;
}

/** Snapshot files of a data dir, newest first. */
export function listSnapshots(dir: string): SnapshotFile[] {
  return listNumberedFiles(dir, snapshotPattern)
    .map(({ path, name, number }) => ({ path, name, seq: number }))
    .reverse();
}

/**
 * Writes a snapshot atomically: to a temporary file, fsynced, renamed into place, directory fsynced. The body
 * carries its SHA-256, so a damaged file is found on reading. Returns the file written.
 */
export async function writeSnapshot(dir: string, snapshot: DataDirSnapshot): Promise<SnapshotFile> {
  const body = JSON.stringify({ format: 'anteroom-snapshot', v: snapshotFormatVersion, ...snapshot });
  const text = `${JSON.stringify({ sha256: sha256(body) })}\n${body}\n`;
  const name = snapshotName(snapshot.seq);
  const path = join(dir, name);
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDirectory(dir);
  return { path, name, seq: snapshot.seq };
}

/** Reads and checks a snapshot file. Throws `SnapshotCorruptError` when it is damaged or of another format. */
export function readSnapshot(path: string): DataDirSnapshot {
  const text = readFileSync(path, 'utf8');
  const newline = text.indexOf('\n');
  try {
    const header = JSON.parse(text.slice(0, newline)) as { sha256?: unknown };
    const body = text.slice(newline + 1).replace(/\n$/, '');
    if (header.sha256 !== sha256(body)) throw new SnapshotCorruptError(`${path}: checksum does not match (a torn or damaged file)`);
    const parsed = JSON.parse(body) as DataDirSnapshot & { format?: unknown; v?: unknown };
    if (parsed.format !== 'anteroom-snapshot' || parsed.v !== snapshotFormatVersion) {
      throw new SnapshotCorruptError(`${path}: not an anteroom snapshot of format ${snapshotFormatVersion}`);
    }
    return { seq: parsed.seq, at: parsed.at, rooms: parsed.rooms, removed: parsed.removed ?? [] };
  } catch (error) {
    if (error instanceof SnapshotCorruptError) throw error;
    throw new SnapshotCorruptError(`${path}: ${(error as Error).message}`);
  }
}

/** Deletes every snapshot but the newest `keep` (and any temporary file a crash left). */
export function pruneSnapshots(dir: string, keep: number): void {
  for (const file of listSnapshots(dir).slice(keep)) unlinkSync(file.path);
  for (const name of readdirSync(dir)) if (name.startsWith('snapshot-') && name.endsWith('.tmp')) unlinkSync(join(dir, name));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
