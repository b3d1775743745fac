import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

export interface HandshakeGuardOptions {
  /** A connection that has not sent a complete request (or upgrade) by then is destroyed. */
  timeoutMs: number;
  /** Connections allowed to wait for their first request at once; 0 = no limit. Over it, new ones are cut. */
  maxPending: number;
  /** Called for each connection cut for being too slow or one too many. */
  onCut?: (why: 'timeout' | 'too_many_pending') => void;
}

/**
 * Bounds the time and number of TCP connections that have not yet sent a whole HTTP request. Node enforces
 * `headersTimeout` only on a coarse 30 s sweep, so a silent or half-sent handshake could otherwise hold a
 * socket (and a file descriptor) for that long.
 */
export class HandshakeGuard {
  private readonly pending = new Map<Socket, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    server: Server,
    private readonly options: HandshakeGuardOptions,
  ) {
    server.on('connection', (socket: Socket) => this.admit(socket));
    const settle = (request: IncomingMessage) => this.settle(request.socket as Socket);
    // First in line: a request is complete when it arrives, before any handler (such as /metrics) reads the count.
    server.prependListener('request', settle);
    server.prependListener('upgrade', settle);
  }

  /** Connections still waiting for their first complete request. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Shutdown: cuts every connection still mid-handshake so the listener can close. */
  close(): void {
    this.stopped = true;
    for (const [socket, timer] of this.pending) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.pending.clear();
  }

  private admit(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (this.options.maxPending > 0 && this.pending.size >= this.options.maxPending) {
      this.options.onCut?.('too_many_pending');
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(socket);
      this.options.onCut?.('timeout');
      socket.destroy();
    }, this.options.timeoutMs);
    timer.unref();
    this.pending.set(socket, timer);
    socket.once('close', () => this.settle(socket));
  }

  private settle(socket: Socket): void {
    const timer = this.pending.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pending.delete(socket);
  }
}
