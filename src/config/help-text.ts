/**
 * `anteroom --help`: built from the same flag table the parser reads, so the two cannot drift apart.
 */
import { serveFlags } from './server-config.js';

function flagColumn(flag: string, valueName: string | null): string {
  return valueName === null ? flag : `${flag} ${valueName}`;
}

const width = Math.max(...serveFlags.map((entry) => flagColumn(entry.flag, entry.valueName).length));
const indent = ' '.repeat(2 + width + 2);

function renderFlags(): string {
  return serveFlags
    .map((entry) => {
      const head = `  ${flagColumn(entry.flag, entry.valueName).padEnd(width)}  ${entry.description}`;
      return `${head}\n${indent}env ${entry.env}, default: ${entry.defaultText}`;
    })
    .join('\n');
}

export const serveHelp = `Usage: anteroom [serve] [flags]      serve the waiting room (serve is the default command)
       anteroom replay <file.jsonl>   replay an event log, or a --data-dir's (anteroom replay --help)
       anteroom inspect-data <dir>    what a data dir holds: segments, snapshots, rooms and places
       anteroom users add|remove <name> --data-dir <dir>   built-in accounts (anteroom users --help)
       anteroom diagram               the machines as Mermaid diagrams (anteroom diagram --help)
       anteroom --version             print the version

A virtual waiting room over WebSocket: ws://HOST:PORT/ joins room "main", ws://HOST:PORT/rooms/<room> a named room.

Flags (each may also be set with its environment variable; a flag beats the variable):
${renderFlags()}
  ${'-h, --help'.padEnd(width)}  print this help
  ${'--version'.padEnd(width)}  print the version

Whole numbers take no sign, decimals or units; times are in milliseconds. A switch is turned on by its flag
alone (--inspect) and set with 1, true, 0 or false as --inspect=false or ANTEROOM_INSPECT=1.
Rooms in --config take any unset field from the flags above.
`;
