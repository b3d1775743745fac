import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { minRenewalGapMs, renewalDueAt, scheduleTokenRenewal, type IssuedToken, type RenewalHolder } from '../../src/tokens/token-renewal.js';

/** Issues like the real issuer: `exp` is the whole second at or before now + ttl. */
function fakeIssuer(ttlMs: number) {
  return async (): Promise<IssuedToken> => ({ token: `t${Date.now()}`, expiresAt: Math.floor((Date.now() + ttlMs) / 1000) * 1000 });
}

/** Runs one session's renewals on the simulated clock for `forMs`; returns what was delivered and when. */
async function renewFor(ttlMs: number, forMs: number, startAt: number) {
  vi.setSystemTime(startAt);
  const issue = fakeIssuer(ttlMs);
  const first = await issue();
  const delivered: (IssuedToken & { at: number })[] = [];
  const holder: RenewalHolder = { tokenRefresh: null };
  let active = true;
  scheduleTokenRenewal(holder, first.expiresAt, {
    tokenTtlMs: ttlMs,
    issue,
    stillActive: () => active,
    deliver: (fresh) => delivered.push({ ...fresh, at: Date.now() }),
  });
  await vi.advanceTimersByTimeAsync(forMs);
  active = false;
  if (holder.tokenRefresh) clearTimeout(holder.tokenRefresh);
  return { first, delivered };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('token renewal timing', () => {
  it('with the shortest lifetime renews once a second, each token expiring a second after the last', async () => {
    const { first, delivered } = await renewFor(1000, 10_000, 1_700_000_000_300);
    expect(delivered.length).toBeGreaterThanOrEqual(9);
    expect(delivered.length).toBeLessThanOrEqual(10);
    let previous = first.expiresAt;
    for (const token of delivered) {
      expect(token.expiresAt).toBe(previous + 1000);
      previous = token.expiresAt;
    }
  });

  it('renews a 1200 ms token before the old one expires, and never twice for one exp', async () => {
    const { first, delivered } = await renewFor(1200, 5000, 1_700_000_000_900);
    expect(delivered.length).toBeLessThanOrEqual(5);
    let previous = first.expiresAt;
    for (const token of delivered) {
      expect(token.at).toBeLessThan(previous);
      expect(token.expiresAt).toBeGreaterThan(previous);
      previous = token.expiresAt;
    }
  });

  it('renews a 5 minute token 30 s before it expires', async () => {
    const { first, delivered } = await renewFor(300_000, 600_000, 1_700_000_000_000);
    expect(delivered[0]!.at).toBe(first.expiresAt - 30_000);
    expect(delivered[1]!.at).toBe(delivered[0]!.expiresAt - 30_000);
  });

  it('keeps renewals at least a second apart, and retries without sending when exp would not move', async () => {
    expect(renewalDueAt(10_000, 1000, 9_800)).toBe(10_800);
    expect(renewalDueAt(10_000, 1000, 9_000)).toBe(10_000);
    expect(renewalDueAt(10_000, 2000, 8_000)).toBe(9_600);

    vi.setSystemTime(5_000);
    const delivered: IssuedToken[] = [];
    const holder: RenewalHolder = { tokenRefresh: null };
    let calls = 0;
    scheduleTokenRenewal(holder, 6_000, {
      tokenTtlMs: 1000,
      // A clock that lags behind: the first renewal's exp would not move forward.
      issue: async () => ({ token: 'x', expiresAt: ++calls === 1 ? 6_000 : 7_000 }),
      stillActive: () => true,
      deliver: (fresh) => delivered.push(fresh),
    });
    await vi.advanceTimersByTimeAsync(6_000 - 5_000);
    expect(calls).toBe(1);
    expect(delivered).toEqual([]);
    await vi.advanceTimersByTimeAsync(minRenewalGapMs - 1);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(delivered.map((t) => t.expiresAt)).toEqual([7_000]);
    clearTimeout(holder.tokenRefresh!);
  });

  it('stops once the session no longer holds its seat', async () => {
    vi.setSystemTime(0);
    const holder: RenewalHolder = { tokenRefresh: null };
    let active = true;
    const issue = vi.fn(fakeIssuer(2000));
    scheduleTokenRenewal(holder, 2000, { tokenTtlMs: 2000, issue, stillActive: () => active, deliver: () => {} });
    active = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(issue).not.toHaveBeenCalled();
    expect(holder.tokenRefresh).toBeNull();
  });
});
