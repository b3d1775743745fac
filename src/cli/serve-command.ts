import { parseServeArgs } from '../config/server-config.js';
import { createAnteroomServer } from '../server/anteroom-server.js';

/** `anteroom [flags]`: serve until SIGINT/SIGTERM, then shut down gracefully and exit 0. */
export async function serveCommand(argv: string[]): Promise<number> {
  const config = parseServeArgs(argv, process.env);
  const server = await createAnteroomServer(config);
  const address = await server.listen();
  const rooms = config.rooms.map((room) => room.name).join(', ');
  process.stdout.write(`anteroom listening on ${address.url} (rooms: ${rooms})\n`);
  server.logger.info({ url: address.url, rooms }, 'listening');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      server.close().then(
        () => resolve(0),
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
