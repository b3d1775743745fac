import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { socketAddress } from './upgrade-gate.js';

export interface HandshakeGuardOptions {
  /** A connection that has not sent a complete request (or upgrade) by then (ms) is destroyed. */
  timeoutMs: number;
  /** Connections allowed to wait for their first request at once; 0 = no limit. Over it, new ones are cut. */
  maxPending: number;
  /**
   * Of those, how many one client address may hold; 0 = no limit. Over it, that address's new connections
   * are cut, so one address cannot take the pool from everyone else.
   */
  maxPendingPerAddress?: number;
  /** Called for each connection cut for being too slow, one too many, or one too many from its address. */
  onCut?: (why: 'timeout' | 'too_many_pending' | 'too_many_pending_per_ip') => void;
}

interface PendingConnection {
  timer: ReturnType<typeof setTimeout>;
  address: string;
  /** Its `close` listener, taken off once the handshake is over: a socket that stays open does not keep it. */
  onClose: () => void;
}

/**
 * Bounds the time and number of TCP connections that have not yet sent a whole HTTP request, in total and
 * per client address. Node enforces `headersTimeout` only on a coarse sweep, so a silent or half-sent
 * handshake could otherwise hold a socket (and a file descriptor) for that long. Requests after the first on
 * a keep-alive connection are bounded by Node's own timeouts, swept often (see `boundRequestTimes`).
 */
export class HandshakeGuard {
  private readonly pending = new Map<Socket, PendingConnection>();
  private readonly perAddress = new Map<string, number>();
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

  /** Connections from `address` still waiting for their first complete request. */
  pendingFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Shutdown: cuts every connection still mid-handshake so the listener can close. */
  close(): void {
    this.stopped = true;
    for (const [socket, { timer }] of this.pending) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.pending.clear();
    this.perAddress.clear();
  }

  private admit(socket: Socket): void {
    if (this.stopped) return void socket.destroy();
    const address = socketAddress(socket.remoteAddress);
    const refusal = this.refusalFor(address);
    if (refusal !== null) {
      this.options.onCut?.(refusal);
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      this.settle(socket);
      this.options.onCut?.('timeout');
      socket.destroy();
    }, this.options.timeoutMs);
    timer.unref();
    // Bound, not an arrow in a named const: a named closure made per connection costs more under tsx.
    const onClose = this.settle.bind(this, socket);
    this.pending.set(socket, { timer, address, onClose });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    socket.on('close', onClose);
  }

  private refusalFor(address: string): 'too_many_pending' | 'too_many_pending_per_ip' | null {
    const { maxPending, maxPendingPerAddress = 0 } = this.options;
    if (maxPending > 0 && this.pending.size >= maxPending) return 'too_many_pending';
    if (maxPendingPerAddress > 0 && this.pendingFrom(address) >= maxPendingPerAddress) return 'too_many_pending_per_ip';
    return null;
  }

  private settle(socket: Socket): void {
    const entry = this.pending.get(socket);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    socket.removeListener('close', entry.onClose);
    this.pending.delete(socket);
    const count = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (count <= 0) this.perAddress.delete(entry.address);
    else this.perAddress.set(entry.address, count);
  }
}

/**
 * Bounds every request on a connection, not only the first: Node's `headersTimeout` and `requestTimeout`
 * apply to each request of a keep-alive connection, but are only checked every `connectionsCheckingInterval`
 * (30 s by default), so a slow second request could trickle for that long. Returns the server options that
 * check them several times per `timeoutMs` (ms). Node's headers limit is twice the guard's, so a first request
 * that runs out is cut by the guard, silently, never answered 408 by Node.
 */
export function boundRequestTimes(timeoutMs: number): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const checkEveryMs = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));
  // Twice the guard's timeout: the guard cuts a first request silently, and Node's own 408 must never win
  // that race, even when the event loop runs late; a later request on a keep-alive connection is still bounded.
  const headersTimeout = timeoutMs * 2 + checkEveryMs;
  return {
    headersTimeout,
    requestTimeout: Math.max(headersTimeout, timeoutMs * 2, 10_000),
    connectionsCheckingInterval: checkEveryMs,
  };
}
