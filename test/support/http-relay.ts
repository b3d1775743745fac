import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A reverse proxy in front of a test server, as a site would run one, that a test can take down and back up. */
export interface HttpRelay {
  /** `http://127.0.0.1:<port>`: pages opened here reach the server through the relay. */
  readonly httpUrl: string;
  /** Cuts every open connection and refuses new ones, as if the server were gone, until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export interface HttpRelayOptions {
  /** Send the upstream's address as Host instead of the one the browser used, as some proxies do. */
  rewriteHost?: boolean;
}

/** Relays HTTP requests and WebSocket upgrades from a free port on 127.0.0.1 to `targetHttpUrl`. */
export async function startHttpRelay(targetHttpUrl: string, options: HttpRelayOptions = {}): Promise<HttpRelay> {
  const target = new URL(targetHttpUrl);
  const port = Number(target.port);
  const sockets = new Set<Socket>();
  let down = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const hostFor = (request: IncomingMessage) => (options.rewriteHost ? target.host : (request.headers.host ?? target.host));

  const relay = createServer((request, response) => {
    const upstream = httpRequest(
      { host: target.hostname, port, method: request.method, path: request.url, headers: { ...request.headers, host: hostFor(request) } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('socket', track);
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  relay.keepAliveTimeout = 500;
  relay.on('connection', (socket: Socket) => {
    if (down) return void socket.destroy();
    track(socket);
  });
  relay.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const upstream = connect(port, target.hostname);
    track(upstream);
    upstream.once('close', () => socket.destroy());
    socket.once('close', () => upstream.destroy());
    const lines = [`${request.method} ${request.url} HTTP/1.1`];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      const name = request.rawHeaders[i]!;
      lines.push(`${name}: ${name.toLowerCase() === 'host' ? hostFor(request) : request.rawHeaders[i + 1]}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));

  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    httpUrl: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    cut() {
      down = true;
      cutAll();
    },
    restore() {
      down = false;
    },
    close() {
      cutAll();
      return new Promise((resolve) => relay.close(() => resolve()));
    },
  };
}
