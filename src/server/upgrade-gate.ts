import type { IncomingMessage } from 'node:http';

export interface UpgradeGateOptions {
  maxConnections: number;
  maxConnectionsPerIp: number;
  allowedOrigins: string[] | null;
  trustProxy: boolean;
}

export type UpgradeVerdict = { ok: true; ip: string } | { ok: false; status: 403 | 503; reason: string };

/**
 * Decides whether an upgrade may become a WebSocket: origin policy, then the global and per-IP connection
 * limits. Counts are taken when a socket opens and given back when it closes.
 */
export class UpgradeGate {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly origins: ReadonlySet<string> | null;

  constructor(private readonly options: UpgradeGateOptions) {
    this.origins = options.allowedOrigins && !options.allowedOrigins.includes('*') ? new Set(options.allowedOrigins) : null;
  }

  get openCount(): number {
    return this.total;
  }

  /** Distinct client addresses with a socket open (for leak checks). */
  get ipCount(): number {
    return this.perIp.size;
  }

  check(request: IncomingMessage): UpgradeVerdict {
    const ip = this.clientIp(request);
    if (this.origins) {
      const origin = normalizeOrigin(request.headers.origin);
      if (origin === null || !this.origins.has(origin)) return { ok: false, status: 403, reason: 'origin not allowed' };
    }
    if (this.options.maxConnections > 0 && this.total >= this.options.maxConnections) {
      return { ok: false, status: 503, reason: 'too many connections' };
    }
    if (this.options.maxConnectionsPerIp > 0 && (this.perIp.get(ip) ?? 0) >= this.options.maxConnectionsPerIp) {
      return { ok: false, status: 503, reason: 'too many connections from this address' };
    }
    return { ok: true, ip };
  }

  opened(ip: string): void {
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    this.total--;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, left);
  }

  clientIp(request: IncomingMessage): string {
    if (this.options.trustProxy) {
      const forwarded = request.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return request.socket.remoteAddress ?? 'unknown';
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
