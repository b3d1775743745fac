import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { getJson, type TestClient } from '../../support/live-server.js';
import { waitFor } from '../../support/wait-for.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

/**
 * The nats-server binary: `NATS_SERVER` when set, else `nats-server` on PATH, else Debian's `/usr/sbin/nats-server`
 * (not on a non-root user's PATH everywhere).
 */
export const natsServerBinary =
  process.env.NATS_SERVER ??
  ((process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'nats-server'))) || !existsSync('/usr/sbin/nats-server') ? 'nats-server' : '/usr/sbin/nats-server');

/** A port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A `nats-server -js` child on 127.0.0.1 with its own store dir; `restart` keeps the port and the store. */
export class NatsProcess {
  child: ChildProcess | null = null;
  readonly url: string;
  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async start(): Promise<NatsProcess> {
    const nats = new NatsProcess(await freePort(), mkdtempSync(join(tmpdir(), 'anteroom-nats-')));
    await nats.launch();
    return nats;
  }

  async launch(): Promise<void> {
    const child = spawn(natsServerBinary, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s: ${err}`)), 10_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${natsServerBinary} (is nats-server on PATH? set NATS_SERVER): ${error.message}`));
      });
      child.stderr!.on('data', (chunk) => {
        err += chunk;
        if (err.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}: ${err}`));
      });
    });
    child.stderr!.resume();
  }

  /** Stops the server (SIGKILL) and waits for its exit. */
  async kill(): Promise<void> {
    await killChild(this.child, 'SIGKILL');
    this.child = null;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** One anteroom node: a `tsx src/cli/main.ts serve` child process in cluster mode. */
export interface NodeProcess {
  id: string;
  child: ChildProcess;
  /** ws://127.0.0.1:port */
  url: string;
  httpUrl: string;
  /** stdout and stderr so far, for a failing test's message. */
  output(): string;
}

/** Starts a node with `--nats`, `--node-id` and `flags`; resolves once it listens, rejects if it exits first. */
export function startNode(natsUrl: string, id: string, flags: string[] = []): Promise<NodeProcess> {
  // Test clients do not send heartbeats: a long timeout keeps a slow machine from evicting them mid-test.
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--log-level', 'warn', '--heartbeat-timeout', '60000', '--nats', natsUrl, '--node-id', id, ...flags];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${id} did not listen within 20 s: ${out}`)), 20_000);
    const onData = () => {
      const match = /ws:\/\/[^\s)]+/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ id, child, url: match[0], httpUrl: match[0].replace('ws://', 'http://'), output: () => out });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${id} exited with ${code}: ${out}`));
    });
  });
}

/** Sends `signal` to the child by its pid and resolves once it has exited. */
export function killChild(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    try {
      process.kill(child.pid!, signal);
    } catch {
      resolve();
    }
  });
}

/** A NATS server and N nodes on it, with one teardown that stops every process this harness started. */
export class Cluster {
  readonly nodes: NodeProcess[] = [];
  private constructor(readonly nats: NatsProcess, readonly flags: string[]) {}

  static async start(count: number, flags: string[] = []): Promise<Cluster> {
    const cluster = new Cluster(await NatsProcess.start(), flags);
    try {
      await Promise.all(Array.from({ length: count }, (_, i) => cluster.addNode(`n${i + 1}`)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    cluster.nodes.sort((a, b) => a.id.localeCompare(b.id));
    return cluster;
  }

  async addNode(id: string, flags: string[] = []): Promise<NodeProcess> {
    const node = await startNode(this.nats.url, id, [...this.flags, ...flags]);
    this.nodes.push(node);
    return node;
  }

  node(id: string): NodeProcess {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** SIGKILLs one node: no graceful stop, as a crash. */
  async kill(id: string): Promise<void> {
    await killChild(this.node(id).child, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => killChild(node.child, 'SIGKILL')));
    await this.nats.stop();
  }
}

/**
 * Waits until `node` reports an owner for `room` (a lease taken), and returns the owner's node id. A node that
 * does not answer for a moment (the lease moving, the node starting) is asked again.
 */
export async function ownerOf(node: NodeProcess, room = 'main'): Promise<string> {
  let owner = '';
  await waitFor(`an owner of ${room}`, async () => {
    owner = (await getJson(`${node.httpUrl}/api/rooms/${room}`).catch(() => ({}))).owner ?? '';
    return owner !== '';
  }, 10_000);
  return owner;
}

/** How many of `clients` are open and seated (their last status `active`). */
export function seatedCount(clients: TestClient[]): number {
  return clients.filter((client) => client.ws.readyState === client.ws.OPEN && client.lastStatus?.status === 'active').length;
}
