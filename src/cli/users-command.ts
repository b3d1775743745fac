import { existsSync, readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import { envVarFor } from '../config/server-config.js';
import { hashPassword, maxPasswordBytes } from '../identity/password-hash.js';
import { accountNamePattern, UserAccounts } from '../identity/user-accounts.js';
import { openAnteroomDatabase } from '../store/anteroom-database.js';

const usage = `Usage: anteroom users add <name> --data-dir <dir> [--password-file <file>]
       anteroom users remove <name> --data-dir <dir>
       anteroom users list --data-dir <dir>

Manages the built-in accounts that POST /api/login signs in (protocol v2 section 5). The password is read
from --password-file, else from stdin (its first line); it is stored as an scrypt hash, never in clear.
Adding a name that exists sets a new password. --data-dir may also come from ANTEROOM_DATA_DIR.
`;

interface UsersArgs {
  action: 'add' | 'remove' | 'list';
  name: string | null;
  dataDir: string;
  passwordFile: string | null;
}

/**
 * `anteroom users add|remove|list`: the built-in accounts in `<data-dir>/anteroom.db`. Resolves with the exit
 * code; a mistake of the caller is a ConfigError (one line, exit 2).
 */
export async function usersCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(usage);
    return 0;
  }
  const args = parseUsersArgs(argv, process.env);
  // Read before the database is opened, so a refused password leaves no data dir behind.
  const password = args.action === 'add' ? await readPassword(args.passwordFile, stdin) : null;
  const db = openAnteroomDatabase(args.dataDir);
  try {
    const users = new UserAccounts(db);
    if (args.action === 'list') {
      for (const name of users.names()) out.write(`${name}\n`);
      return 0;
    }
    if (args.action === 'remove') {
      if (!users.remove(args.name!)) throw new ConfigError(`users remove: no account named ${args.name}`);
      out.write(`removed ${args.name}\n`);
      return 0;
    }
    const existed = users.set(args.name!, await hashPassword(password!));
    out.write(`${existed ? 'changed the password of' : 'added'} ${args.name}\n`);
    return 0;
  } finally {
    db.close();
  }
}

function parseUsersArgs(argv: string[], env: NodeJS.ProcessEnv): UsersArgs {
  const [action, ...rest] = argv;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new ConfigError(`users: add, remove or list? (see anteroom users --help)`);
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag !== '--data-dir' && flag !== '--password-file') throw new ConfigError(`users: unknown flag ${flag} (see anteroom users --help)`);
    const value = inline ?? rest[++i];
    if (value === undefined || value === '') throw new ConfigError(`users: ${flag} needs a value`);
    flags.set(flag, value);
  }
  const dataDir = flags.get('--data-dir') ?? (env[envVarFor('data-dir')] || undefined);
  if (dataDir === undefined) throw new ConfigError('users: accounts live in a data dir: give --data-dir <dir>');
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) throw new ConfigError(`users: ${dataDir} is not a directory`);
  // Only `add` makes a data dir: listing or removing in a mistyped path would make an empty one.
  if (action !== 'add' && !existsSync(dataDir)) throw new ConfigError(`users: there is no data dir at ${dataDir}`);
  const name = positional[0] ?? null;
  if (action !== 'list' && (name === null || positional.length > 1)) throw new ConfigError(`users ${action}: give exactly one account name`);
  if (action === 'list' && positional.length > 0) throw new ConfigError('users list: takes no name');
  if (name !== null && !accountNamePattern.test(name)) throw new ConfigError(`users: an account name is 1 to 64 letters, digits, ".", "_", "-" or "@"`);
  return { action, name, dataDir, passwordFile: flags.get('--password-file') ?? null };
}

/** The password: the first line of the file or of stdin (a trailing newline is not part of it). */
async function readPassword(file: string | null, stdin: NodeJS.ReadableStream): Promise<string> {
  let text: string;
  if (file !== null) {
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`users add: --password-file ${file} cannot be read`);
    }
  } else {
    const chunks: Buffer[] = [];
    // The first line is enough: a person typing at a terminal ends it with Enter, not with end-of-file.
    for await (const chunk of stdin) {
      chunks.push(Buffer.from(chunk as Buffer));
      if (chunks.at(-1)!.includes(0x0a)) break;
    }
    text = Buffer.concat(chunks).toString('utf8');
  }
  const password = text.split(/\r?\n/, 1)[0] ?? '';
  if (password === '') throw new ConfigError(`users add: the password is empty (give it on stdin or with --password-file)`);
  if (Buffer.byteLength(password) > maxPasswordBytes) throw new ConfigError(`users add: the password is longer than ${maxPasswordBytes} bytes`);
  return password;
}
