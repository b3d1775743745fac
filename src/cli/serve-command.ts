import { ConfigError } from '../config/config-error.js';
import { parseServeArgs, type ServerConfig } from '../config/server-config.js';
import { startInspector } from '../inspect/start-inspector.js';
import { createAnteroomServer, type AnteroomServer } from '../server/anteroom-server.js';

/** `anteroom [flags]`: serve until SIGINT/SIGTERM, then shut down gracefully and exit 0. */
export async function serveCommand(argv: string[]): Promise<number> {
  const config = parseServeArgs(argv, process.env);
  // Off by default, and then the actors get no inspect option at all: inspection costs nothing.
  const inspector = config.inspect ? await startInspector() : null;
  const server = await createAnteroomServer(config, inspector ? { inspect: inspector.inspect } : {});
  const address = await listenOrExplain(server, config);
  const rooms = config.rooms.map((room) => room.name).join(', ');
  process.stdout.write(`anteroom listening on ${address.url} (rooms: ${rooms})\n`);
  if (address.opsUrl) process.stdout.write(`operators' endpoints (dashboard, metrics, API) on ${address.opsUrl}\n`);
  server.logger.info({ url: address.url, opsUrl: address.opsUrl, rooms }, 'listening');
  if (inspector) process.stdout.write(`XState inspector: open ${inspector.url} in a browser\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      server.close().then(
        async () => {
          await inspector?.close();
          resolve(0);
        },
        (error: unknown) => {
          server.logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** Why a listen fails, in words that point at the flag to change. */
const listenFailures: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (another server on that port?); choose another with --port',
  EACCES: 'permission denied (ports below 1024 need privileges); choose another with --port',
  EADDRNOTAVAIL: 'the address is not one of this machine; check --host',
  ENOTFOUND: 'unknown host name; check --host',
  EAI_AGAIN: 'the host name could not be resolved; check --host',
};

/** Listens, or stops the start with one line naming the address when the listen fails for a user's reason. */
async function listenOrExplain(server: AnteroomServer, config: ServerConfig): ReturnType<AnteroomServer['listen']> {
  try {
    return await server.listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = listenFailures[code];
    if (why === undefined) throw error;
    // The server never served, so its shutdown has nothing to report.
    server.logger.level = 'silent';
    await server.close().catch(() => {});
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    throw new ConfigError(`cannot listen on ${host}:${config.port}: ${why}`, { cause: error });
  }
}
