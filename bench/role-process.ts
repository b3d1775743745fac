/**
 * Benchmarks that run their parts in separate processes (a server, load generators) run their own file
 * again in a child with a role, and talk to it over Node's IPC channel: `call(command, args)` in the parent,
 * `serveRequests(handlers)` in the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The environment variable that tells a bench file which role it runs as. */
export const ROLE_ENV = 'ANTEROOM_BENCH_ROLE';
/** Open files a child asks for (sockets); it gets the hard limit if that is lower. */
const WANTED_FD_LIMIT = 65_536;

/** Epoch milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export const epochNow = () => performance.timeOrigin + performance.now();

export interface Request {
  id: number;
  command: string;
  args: unknown;
}
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
export type Handlers = Record<string, (args: any) => unknown>;

/** A child running a bench file in one role: `call` sends it a command and resolves with its reply. */
export class RoleProcess<Role extends string = string> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly exited: Promise<void>;

  constructor(
    readonly role: Role,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`${role}: ${reply.error}`));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${role} exited (${code ?? signal})`));
        this.pending.clear();
        resolve();
      });
    });
  }

  call<R>(command: string, args: unknown = {}): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command, args } satisfies Request);
    });
  }

  /** Asks the child to exit; ends it by its own id if it does not within a few seconds. */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.call('exit').catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The child's process id (the shell it starts under execs node, so this is node's). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ends the child at once (a bench past its deadline). */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/**
 * Runs `benchFile` again as `role` (with `--expose-gc`, and `nodeFlags`), from the repository root above the
 * bench folder, under a shell that first raises its open-file limit as far as allowed (`ulimit -n` is per
 * process) and, for a load generator, lowers its priority by `niceness`.
 */
export function spawnRole<Role extends string>(
  benchFile: string,
  role: Role,
  options: { niceness?: number; nodeFlags?: string[] } = {},
): RoleProcess<Role> {
  const niceness = options.niceness ?? 0;
  const raiseLimit = `ulimit -n ${WANTED_FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${niceness > 0 ? `nice -n ${niceness} ` : ''}"$0" "$@"`;
  const nodeArgs = [process.execPath, '--expose-gc', ...(options.nodeFlags ?? []), '--import', 'tsx', benchFile];
  const child = spawn('/bin/sh', ['-c', raiseLimit, ...nodeArgs], {
    cwd: dirname(dirname(benchFile)),
    env: { ...process.env, [ROLE_ENV]: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new RoleProcess(role, child);
}

/** In a child: answers the parent's calls with `handlers` (`exit` is built in) and exits with the parent. */
export function serveRequests(handlers: Handlers): void {
  process.on('message', async (request: Request) => {
    if (request.command === 'exit') {
      process.send!({ id: request.id, ok: true, result: null } satisfies Reply, () => process.exit(0));
      return;
    }
    let reply: Reply;
    try {
      const handler = handlers[request.command];
      if (!handler) throw new Error(`unknown command ${request.command}`);
      reply = { id: request.id, ok: true, result: await handler(request.args) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    process.send!(reply);
  });
  // The parent going away ends the child too.
  process.on('disconnect', () => process.exit(0));
}

/** The soft open-file limit this process got, from /proc (Node has no getrlimit). */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}

