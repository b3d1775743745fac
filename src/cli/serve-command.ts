import { parseServeArgs } from '../config/server-config.js';
import { startInspector } from '../inspect/start-inspector.js';
import { createAnteroomServer } from '../server/anteroom-server.js';

/** `anteroom [flags]`: serve until SIGINT/SIGTERM, then shut down gracefully and exit 0. */
export async function serveCommand(argv: string[]): Promise<number> {
  const config = parseServeArgs(argv, process.env);
  // Off by default, and then the actors get no inspect option at all: inspection costs nothing.
  const inspector = config.inspect ? await startInspector() : null;
  const server = await createAnteroomServer(config, inspector ? { inspect: inspector.inspect } : {});
  const address = await server.listen();
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
