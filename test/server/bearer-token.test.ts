import { timingSafeEqual } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { bearerMatches } from '../../src/server/http-api.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

describe('the admin bearer check', () => {
  it('compares in constant time over equal-length digests, whatever the length of what was sent', () => {
    const token = 'the-right-admin-token';
    const headers = ['Bearer x', `Bearer ${'y'.repeat(500)}`, `Bearer ${token.slice(0, -1)}z`, 'Basic abc', undefined, `Bearer ${token}`];
    const answers = headers.map((header) => bearerMatches(header, token));
    expect(answers).toEqual([false, false, false, false, false, true]);
    // Every attempt reaches the comparison, and it always compares two 32-byte digests: nothing depends on length.
    expect(vi.mocked(timingSafeEqual)).toHaveBeenCalledTimes(headers.length);
    for (const [given, expected] of vi.mocked(timingSafeEqual).mock.calls) {
      expect([(given as Buffer).length, (expected as Buffer).length]).toEqual([32, 32]);
    }
  });
});
