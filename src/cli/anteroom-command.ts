import { serveHelp } from '../config/help-text.js';
import { wantsHelp } from '../config/server-config.js';
import { diagramCommand } from './diagram-command.js';
import { inspectDataCommand } from './inspect-data-command.js';
import { packageVersion } from './package-version.js';
import { replayCommand } from './replay-command.js';
import { serveCommand } from './serve-command.js';
import { usersCommand } from './users-command.js';

/** `--version` anywhere before a lone `--`, like `--help`. */
function wantsVersion(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--version') return true;
  }
  return false;
}

/**
 * The `anteroom` command: `serve` (also the default when the first argument is a flag or nothing),
 * `diagram`, `replay <file.jsonl | dir>`, `inspect-data <dir>`, `users add|remove|list`, `--help` and `--version`. Resolves with the exit code.
 */
export async function anteroomCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'replay') return replayCommand(rest, out);
  if (first === 'diagram') return diagramCommand(rest, out);
  if (first === 'inspect-data') return inspectDataCommand(rest, out);
  if (first === 'users') return usersCommand(rest, out);
  const serveArgs = first === 'serve' ? rest : argv;
  if (wantsVersion(serveArgs)) {
    out.write(`anteroom ${packageVersion()}\n`);
    return 0;
  }
  if (wantsHelp(serveArgs)) {
    out.write(serveHelp);
    return 0;
  }
  return serveCommand(serveArgs);
}
