import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isHeldSeat } from '../../machines/admission/admission-state.js';
import { lockFileName } from '../durable/data-dir-lock.js';
import { listSegments } from '../durable/log-segments.js';
import { recoverDataDir, type RecoveredDataDir } from '../durable/recovery.js';
import { listSnapshots } from '../durable/snapshot-file.js';
import type { FoldedRoom } from '../log/room-fold.js';

const usage = `Usage: anteroom inspect-data <dir> [--line <n>]

Prints what a --data-dir holds: its lock, log segments, snapshots, and every room as a restart would
recover it (status, capacity, seats, the line with its first <n> places, default 10). Changes nothing.
`;

/** `anteroom inspect-data <dir>`: what a data dir holds, read-only. Resolves with the exit code. */
export async function inspectDataCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(usage);
    return 0;
  }
  const lineAt = argv.indexOf('--line');
  const line = lineAt === -1 ? 10 : Number(argv[lineAt + 1]);
  const dir = argv.find((arg, index) => !arg.startsWith('--') && (lineAt === -1 || index !== lineAt + 1));
  if (dir === undefined || !Number.isInteger(line) || line < 0) {
    out.write(`anteroom inspect-data: ${dir === undefined ? 'which data dir?' : '--line must be a whole number'}\n\n${usage}`);
    return 2;
  }
  if (!statSync(dir).isDirectory()) {
    out.write(`anteroom inspect-data: ${dir} is not a directory\n`);
    return 2;
  }
  out.write(describeFiles(dir));
  const recovered = await recoverDataDir(dir);
  out.write(describeRecovery(recovered));
  for (const [name, room] of recovered.rooms) out.write(describeRoom(name, room, line));
  return 0;
}

function describeFiles(dir: string): string {
  const lockPath = join(dir, lockFileName);
  const lock = existsSync(lockPath) ? `held by pid ${readFileSync(lockPath, 'utf8').trim()} (a server runs on it, or one crashed)` : 'free';
  const segments = listSegments(dir);
  const bytes = segments.reduce((sum, segment) => sum + statSync(segment.path).size, 0);
  const lines = [`data dir ${dir}`, `  lock: ${lock}`, `  log: ${segments.length} segment(s), ${bytes} bytes${segments.length ? `, from record ${segments[0]!.firstSeq}` : ''}`];
  for (const segment of segments) lines.push(`    ${segment.name}`);
  const snapshots = listSnapshots(dir);
  lines.push(`  snapshots: ${snapshots.length}`);
  for (const snapshot of snapshots) lines.push(`    ${snapshot.name} (after record ${snapshot.seq}, ${statSync(snapshot.path).size} bytes)`);
  return lines.join('\n') + '\n';
}

function describeRecovery(recovered: RecoveredDataDir): string {
  const from = recovered.snapshot === null ? 'the log from its first record' : `${recovered.snapshot.name} plus ${recovered.tail} records of tail`;
  const lines = [`recovered from ${from}; last record ${recovered.lastSeq}`];
  for (const why of recovered.skipped) lines.push(`  snapshot skipped: ${why}`);
  if (recovered.torn !== null) lines.push(`  torn last record in ${recovered.torn.segment} at line ${recovered.torn.line}: left out`);
  return lines.join('\n') + '\n';
}

function describeRoom(name: string, room: FoldedRoom, limit: number): string {
  const { state } = room;
  const heldSeats = [...state.seats.values()].filter(isHeldSeat).length;
  const held = state.queue.size - state.queue.liveCount;
  const lines = [
    `room ${name}: ${state.status}, capacity ${state.capacity}, maxQueue ${state.maxQueue || 'none'}`,
    `  seats: ${state.seats.size} taken (${heldSeats} held for a resume)`,
    `  line: ${state.queue.size} places (${held} held for a resume)`,
  ];
  let position = 0;
  for (const [, waiter] of state.queue.entries()) {
    if (++position > limit) break;
    const hold = waiter.holdUntil === null ? 'live' : `held until ${new Date(waiter.holdUntil).toISOString()}`;
    lines.push(`    ${position}. ${waiter.session} ${hold}`);
  }
  if (state.queue.size > limit) lines.push(`    … ${state.queue.size - limit} more`);
  return lines.join('\n') + '\n';
}
