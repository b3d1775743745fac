import { describe, expect, it } from 'vitest';
import { createAdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import { settle } from '../../machines/admission/step.js';
import { dueTimers } from '../../src/cluster/owner-timers.js';

const join = (conn: string): AdmissionCommand => ({ type: 'join', conn, session: `s${conn}` });

describe('the timers a new owner arms', () => {
  it('names every hold, seat limit and site session the state holds, and each decides what its own timer would', () => {
    const state = createAdmissionState({ capacity: 2, resumeWindowMs: 1000, sessionTtlMs: 5000, siteSessions: true, siteSessionTimeoutMs: 7000 });
    for (const command of [join('a'), join('b'), join('c'), join('d'), { type: 'drop', conn: 'd' } as const, { type: 'drop', conn: 'b' } as const]) settle(state, command, 100);
    const due = dueTimers(state);
    expect(due).toEqual(
      expect.arrayContaining([
        { at: 1100, command: { type: 'expireHold', session: 'sd', expiresAt: 1100 } },
        { at: 5100, command: { type: 'expireSeat', conn: 'a', ttlUntil: 5100 } },
        { at: 5100, command: { type: 'expireSeat', conn: 'b', ttlUntil: 5100 } },
        { at: 7100, command: { type: 'expireSiteSession', session: 'sb', until: 7100 } },
      ]),
    );
    // Fired in time order, they end the hold and both seats' limits (the kept seat's too), as the old owner's would have.
    const released = due
      .sort((x, y) => x.at - y.at)
      .flatMap((timer) => settle(state, timer.command, timer.at))
      .filter((decision) => decision.type === 'released' || decision.type === 'evicted')
      .map((decision) => `${decision.type}:${'session' in decision ? decision.session : ''}`);
    expect(released).toEqual(['released:sd', 'evicted:sa', 'evicted:sb']);
  });

  it('has nothing to arm for a room without holds, limits or pacing', () => {
    const state = createAdmissionState({ capacity: 1 });
    settle(state, join('a'), 0);
    settle(state, join('b'), 0);
    expect(dueTimers(state)).toEqual([]);
  });
});
