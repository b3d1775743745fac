import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The plumbing of benches that run their servers and load generators as child processes of their own file:
 * a request/reply channel over IPC, spawning a role with its open-file limit raised, and the limit it got.
 */
interface Request {
  id: number;
  command: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
export type Handlers = Record<string, (args: any) => unknown>;

/** One child process running a role, answering `call`s one request at a time. */
export class RoleProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly exited: Promise<void>;

  constructor(
    readonly role: string,
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
}

export interface RoleSpawn {
  /** The bench file to run again, and the directory to run it in. */
  benchFile: string;
  cwd: string;
  /** The environment variable the child reads its role from. */
  roleEnv: string;
  /** Open files to ask for (`ulimit -n`); the hard limit when that is refused. */
  fdLimit: number;
  /** Extra node flags (e.g. --cpu-prof), before the file. */
  nodeFlags?: string[];
  /** Scheduling priority for a load generator (higher is nicer to others). */
  niceness?: number;
}

/**
 * Runs `benchFile` again as `role` (with --expose-gc), under a shell that first raises its open-file limit as
 * far as allowed (`ulimit -n` is per process) and lowers its priority by `niceness`.
 */
export function spawnRole(role: string, options: RoleSpawn): RoleProcess {
  const { niceness = 0 } = options;
  const raiseLimit = `ulimit -n ${options.fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${niceness > 0 ? `nice -n ${niceness} ` : ''}"$0" "$@"`;
  const nodeArgs = [process.execPath, '--expose-gc', ...(options.nodeFlags ?? []), '--import', 'tsx', options.benchFile];
  const child = spawn('/bin/sh', ['-c', raiseLimit, ...nodeArgs], {
    cwd: options.cwd,
    env: { ...process.env, [options.roleEnv]: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new RoleProcess(role, child);
}

/** In a child: answers the parent's requests with `handlers`; `exit` ends the process, and so does the parent going away. */
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
