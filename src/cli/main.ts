import { ConfigError } from '../config/config-error.js';
import { serveHelp } from '../config/help-text.js';
import { wantsHelp } from '../config/server-config.js';
import { diagramCommand } from './diagram-command.js';
import { replayCommand } from './replay-command.js';
import { serveCommand } from './serve-command.js';

/** The `anteroom` command: serve (default), `diagram`, or `replay <file.jsonl>`. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'replay') return replayCommand(rest);
  if (first === 'diagram') return diagramCommand(rest);
  if (wantsHelp(argv)) {
    process.stdout.write(serveHelp);
    return 0;
  }
  return serveCommand(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`anteroom: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`anteroom: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
