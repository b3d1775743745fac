import { statSync } from 'node:fs';
import { readDataDirLog } from '../durable/data-dir-log.js';
import type { EventRecord } from '../log/event-record.js';
import { readEventLog } from '../log/read-event-log.js';
import type { FoldedRoom } from '../log/room-fold.js';
import { replay } from '../log/replay.js';
import { explainSession, formatSessionTimeline } from '../log/replay-explain.js';
import { formatStateAt, stateAt } from '../log/replay-until.js';
import { formatWhatIf, whatIfCapacity } from '../log/replay-whatif.js';
import { readRoomStream } from '../cluster/read-room-stream.js';
import { formatStreamReplay, replayStream } from '../cluster/stream-replay.js';

const usage = `Usage: anteroom replay <file.jsonl | data dir> [flags]
       anteroom replay --nats <url[,url]> --room <name> [--cluster-name <name>]

Replays a recorded event log (a JSONL file, or the log a --data-dir keeps) through fresh machines and checks every decision (exit 0 when all are
reproduced, 1 at the first divergence). With a flag it answers a question about the log instead:

  --explain <session>  one session's timeline: when it joined, every position, why it was admitted or
                       evicted (a unique prefix of the session id is enough)
  --until <seq>        replay up to that record and print each room as it stood: status, capacity, seats,
                       and the line with positions
  --line <n>           places of the line --until prints (default 50)
  --capacity <n>       what-if: the recorded arrivals and departures under another capacity, wait-time
                       p50/p90 beside the recorded ones
  --room <name>        only this room (for --capacity; with --nats, the room to replay)
  --nats <url[,url]>   replay a cluster's room from its JetStream stream instead of a file: every command
                       decided again and compared (exit 0 when all are reproduced, 1 at a divergence)
  --cluster-name <n>   with --nats: the cluster's name (default anteroom)
`;

interface ReplayFlags {
  file: string;
  explain?: string;
  until?: number;
  line: number;
  capacity?: number;
  room?: string;
  nats?: string;
  clusterName?: string;
}

/** `anteroom replay <file.jsonl> [--explain <session>] [--until <seq>] [--capacity <n>]`. */
export async function replayCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(usage);
    return 0;
  }
  const flags = parseReplayFlags(argv);
  if (typeof flags === 'string') {
    out.write(`anteroom replay: ${flags}\n\n${usage}`);
    return 2;
  }
  if ('nats' in flags) return replayFromStream(flags as ReplayFlags & { nats: string }, out);
  // A file that cannot be read, or is not an event log, throws: the command line says why in one line.
  const { records, seed } = await readRecords(flags.file, out);
  const questions = flags.explain !== undefined || flags.until !== undefined || flags.capacity !== undefined;
  if (!questions) return verify(records, out, seed);

  let code = 0;
  if (flags.explain !== undefined) {
    const timeline = explainSession(records, flags.explain);
    if ('error' in timeline) {
      out.write(`${timeline.error}\n`);
      code = 1;
    } else {
      out.write(formatSessionTimeline(timeline));
    }
  }
  if (flags.until !== undefined) {
    const result = stateAt(records, flags.until, flags.line);
    if (!result.replay.ok) {
      out.write(`divergence before seq ${flags.until}: ${result.replay.message}\n`);
      code = 1;
    } else {
      out.write(formatStateAt(result, flags.until));
    }
  }
  if (flags.capacity !== undefined) {
    const reports = whatIfCapacity(records, flags.capacity, flags.room);
    if (flags.room !== undefined && reports.length === 0) {
      out.write(`no room "${flags.room}" in the log\n`);
      code = 1;
    } else {
      out.write(formatWhatIf(reports));
    }
  }
  return code;
}

/** The records of a JSONL file or a data dir, saying what was left out (a torn tail, deleted segments). */
async function readRecords(path: string, out: NodeJS.WritableStream): Promise<{ records: EventRecord[]; seed: [string, FoldedRoom][] | null }> {
  if (statSync(path).isDirectory()) {
    const log = await readDataDirLog(path);
    if (log.torn !== null) out.write(`${log.torn.segment}: line ${log.torn.line}, the last, is cut off (a crash in the middle of a write): left out\n`);
    if (log.seededFrom !== null) out.write(`older segments were deleted: rooms start from ${log.seededFrom}\n`);
    return { records: log.records, seed: log.seed };
  }
  const { records, torn } = await readEventLog(path);
  if (torn !== null) {
    out.write(`line ${torn.line}, the last, is cut off (a crash in the middle of a write): left out; replaying the ${records.length} records before it\n`);
  }
  return { records, seed: null };
}

function verify(records: EventRecord[], out: NodeJS.WritableStream, seed: [string, FoldedRoom][] | null): number {
  const result = replay(records, seed === null ? {} : { seed });
  if (result.ok) {
    const folded = result.folded ? `; ${result.folded} decisions before a room's first start in the kept log were folded, not replayed` : '';
    out.write(`reproduced ${result.decisions} decisions from ${result.inputs} inputs (${records.length} records)${folded}\n`);
    return 0;
  }
  out.write(`divergence: ${result.message}\n`);
  if (result.record) out.write(`  record:   ${JSON.stringify(result.record)}\n`);
  out.write(`  expected: ${JSON.stringify(result.expected)}\n`);
  out.write(`  actual:   ${JSON.stringify(result.actual)}\n`);
  return 1;
}

/** `--nats <url> --room <room>`: the room's stream, replayed through a fresh room actor. */
async function replayFromStream(flags: ReplayFlags & { nats: string }, out: NodeJS.WritableStream): Promise<number> {
  if (flags.room === undefined) {
    out.write(`anteroom replay: --nats needs --room <name>\n\n${usage}`);
    return 2;
  }
  const entries = await readRoomStream(flags.nats.split(','), flags.clusterName ?? 'anteroom', flags.room);
  const result = replayStream(flags.room, entries);
  out.write(formatStreamReplay(flags.room, result));
  return result.ok ? 0 : 1;
}

const replayFlagNames: ReadonlySet<string> = new Set(['--explain', '--room', '--until', '--capacity', '--line', '--nats', '--cluster-name']);

function parseReplayFlags(argv: string[]): ReplayFlags | string {
  let file: string | undefined;
  const flags: Partial<ReplayFlags> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      if (file !== undefined) return `unexpected argument "${arg}"`;
      file = arg;
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg : arg.slice(0, equals);
    // Named before its value is read: an unknown flag is the mistake, not a missing value.
    if (!replayFlagNames.has(name)) return `unknown flag ${name}`;
    const value = equals === -1 ? argv[++i] : arg.slice(equals + 1);
    if (value === undefined || value === '') return `${name} needs a value`;
    switch (name) {
      case '--explain':
        flags.explain = value;
        break;
      case '--room':
        flags.room = value;
        break;
      case '--nats':
        flags.nats = value;
        break;
      case '--cluster-name':
        flags.clusterName = value;
        break;
      case '--until':
      case '--capacity':
      case '--line': {
        if (!/^\d+$/.test(value)) return `${name} must be a whole number, got "${value}"`;
        const number = Number(value);
        if (name === '--until') flags.until = number;
        else if (name === '--capacity') flags.capacity = number;
        else if (number < 1) return '--line must be at least 1';
        else flags.line = number;
        break;
      }
      default:
        return `unknown flag ${name}`;
    }
  }
  if (flags.nats !== undefined) return file === undefined ? { line: 50, ...flags, file: '' } : `a file and --nats: choose one`;
  if (file === undefined) return 'which log? give the path of a .jsonl event log or a data dir';
  return { line: 50, ...flags, file };
}
