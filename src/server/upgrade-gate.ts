import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface UpgradeGateOptions {
  maxConnections: number;
  maxConnectionsPerIp: number;
  allowedOrigins: string[] | null;
  trustProxy: boolean;
}

/** Why an upgrade was refused: also the `reason` label of the refusal metric. */
export type UpgradeRefusal = 'origin' | 'max_connections' | 'max_connections_per_ip';

export type UpgradeVerdict =
  | { ok: true; ip: string }
  | { ok: false; status: 403 | 503; refusal: UpgradeRefusal; reason: string };

/**
 * Decides whether an upgrade may become a WebSocket: origin policy, then the global and per-IP connection
 * limits. Counts are taken when a socket opens and given back when it closes.
 */
export class UpgradeGate {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly origins: ReadonlySet<string> | null;

  /**
   * @param heldFrom places held for a resume from an address: they count toward its connection limit, so one
   *   address cannot fill a line with places it drops on purpose.
   */
  constructor(
    private readonly options: UpgradeGateOptions,
    private readonly heldFrom: (ip: string) => number = () => 0,
  ) {
    this.origins = options.allowedOrigins && !options.allowedOrigins.includes('*') ? new Set(options.allowedOrigins) : null;
  }

  get openCount(): number {
    return this.total;
  }

  /** Distinct client addresses with a socket open (for leak checks). */
  get ipCount(): number {
    return this.perIp.size;
  }

  /** Sockets open from one address. */
  openFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  check(request: IncomingMessage): UpgradeVerdict {
    const ip = this.clientIp(request);
    if (!originAllowed(request.headers.origin, request.headers.host, this.origins)) {
      return { ok: false, status: 403, refusal: 'origin', reason: 'origin not allowed' };
    }
    if (this.options.maxConnections > 0 && this.total >= this.options.maxConnections) {
      return { ok: false, status: 503, refusal: 'max_connections', reason: 'too many connections' };
    }
    if (this.options.maxConnectionsPerIp > 0 && (this.perIp.get(ip) ?? 0) + this.heldFrom(ip) >= this.options.maxConnectionsPerIp) {
      return { ok: false, status: 503, refusal: 'max_connections_per_ip', reason: 'too many connections from this address' };
    }
    return { ok: true, ip };
  }

  opened(ip: string): void {
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    const count = this.perIp.get(ip);
    // Only a socket that was counted may give its count back, so a stray call cannot drive totals negative.
    if (count === undefined) return;
    this.total--;
    if (count <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, count - 1);
  }

  /**
   * The address a limit applies to. Behind `--trust-proxy` it is the last X-Forwarded-For entry: the one the
   * proxy we run appended. Entries before it were written by the client and could be anything.
   */
  clientIp(request: IncomingMessage): string {
    if (this.options.trustProxy) {
      const header = request.headers['x-forwarded-for'];
      const joined = Array.isArray(header) ? header.join(',') : header;
      const last = joined?.split(',').at(-1)?.trim();
      if (last && isIP(last)) return unmapIpv4(last);
    }
    return socketAddress(request.socket.remoteAddress);
  }
}

/** A socket's peer address as the limits count it (`unknown` when the socket is already gone). */
export function socketAddress(remoteAddress: string | undefined): string {
  return unmapIpv4(remoteAddress ?? 'unknown');
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client; count them as one. */
function unmapIpv4(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/**
 * Whether a browser page at `origin` may connect, given the request's `Host` and the allowlist (null = any).
 * The server's own origin, the one whose host is the request's Host, is always allowed: it is where the
 * waiting page comes from, and a page of another site cannot send it.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowlist: ReadonlySet<string> | null): boolean {
  if (allowlist === null) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  return allowlist.has(normalized) || isSameOrigin(normalized, host);
}

/** Host compared as the browser writes it for that scheme: lower-case, default port dropped. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  const url = new URL(origin);
  try {
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}

/** `scheme://host[:port]`, lower-case, default ports dropped; null for a missing or unparsable origin. */
export function normalizeOrigin(origin: string | undefined): string | null {
  if (!origin) return null;
  try {
    const url = new URL(origin);
    return `${url.protocol}//${url.host}`.toLowerCase();
  } catch {
    return null;
  }
}
