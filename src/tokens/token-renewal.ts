/**
 * When an active session's admission token is renewed. JWT times are whole seconds and `exp` is rounded down,
 * so a renewal issued too soon after the last one would carry the same `exp`, fall due again at once and
 * spin. The rule here: a renewal is due a lead before the real `exp` of the token just issued, never before
 * the moment a new token's `exp` can move forward, and never sooner than a second after the last renewal.
 */

/** Renews this long before the token expires (or a fifth of its lifetime, if shorter). */
export const tokenRenewLeadMs = 30_000;

/** The fewest milliseconds between two renewals of one session, whatever the lifetime. */
export const minRenewalGapMs = 1000;

/**
 * The epoch ms at which the token expiring at `expiresAt` (ms, a whole second) is renewed, for tokens of
 * `tokenTtlMs` (ms) issued at `issuedAt` (ms, when the token was signed).
 */
export function renewalDueAt(expiresAt: number, tokenTtlMs: number, issuedAt: number): number {
  const lead = Math.min(tokenRenewLeadMs, tokenTtlMs / 5);
  // A token issued at t expires at floor((t + ttl) / 1000) s: past expiresAt only once t >= expiresAt + 1000 - ttl.
  const exceedsCurrent = expiresAt + 1000 - tokenTtlMs;
  return Math.max(expiresAt - lead, exceedsCurrent, issuedAt + minRenewalGapMs);
}

export interface IssuedToken {
  token: string;
  /** Epoch ms: the JWT `exp` times 1000. */
  expiresAt: number;
}

/** Where a session's renewal timer is kept, so closing the socket can clear it. */
export interface RenewalHolder {
  tokenRefresh: ReturnType<typeof setTimeout> | null;
}

export interface TokenRenewalDeps {
  tokenTtlMs: number;
  /** Signs a fresh token; null when signing failed (already logged). */
  issue: () => Promise<IssuedToken | null>;
  /** Whether the session still holds its seat; a renewal for a session that left is dropped. */
  stillActive: () => boolean;
  /** Sends the fresh token to the client. */
  deliver: (issued: IssuedToken) => void;
  /** Epoch ms; Date.now by default. */
  now?: () => number;
}

/**
 * Keeps one session's admission token fresh: arms a timer for the next renewal after the token that
 * expires at `expiresAt` (ms) was issued, and re-arms after each renewal, for as long as the session is
 * active. A fresh token whose `exp` did not move forward is not sent; the timer is re-armed instead.
 */
export function scheduleTokenRenewal(holder: RenewalHolder, expiresAt: number, deps: TokenRenewalDeps): void {
  const now = deps.now ?? Date.now;
  const issuedAt = now();
  if (holder.tokenRefresh) clearTimeout(holder.tokenRefresh);
  holder.tokenRefresh = setTimeout(async () => {
    holder.tokenRefresh = null;
    if (!deps.stillActive()) return;
    const fresh = await deps.issue();
    if (!deps.stillActive()) return;
    if (fresh && fresh.expiresAt > expiresAt) {
      deps.deliver(fresh);
      scheduleTokenRenewal(holder, fresh.expiresAt, deps);
    } else {
      scheduleTokenRenewal(holder, expiresAt, deps);
    }
  }, Math.max(0, renewalDueAt(expiresAt, deps.tokenTtlMs, issuedAt) - issuedAt));
  holder.tokenRefresh.unref?.();
}
