import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/server/token-bucket.js';
import { historyAnswerCost, messageCost } from '../../src/server/socket-handlers.js';

describe('TokenBucket', () => {
  it('spends a message its cost, never more than the burst, and says when enough is back (ms)', () => {
    const bucket = new TokenBucket(10, 20, 0);
    expect(bucket.take(0, 5)).toBe(0);
    expect(bucket.take(0, 15)).toBe(0);
    // Empty: one token comes back every 100 ms.
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(0, 3)).toBe(300);
    // A cost over the burst is charged the burst: it passes from a full bucket, after 2 s here.
    expect(bucket.take(0, 1_000)).toBe(2_000);
    expect(bucket.take(2_000, 1_000)).toBe(0);
    expect(bucket.refusedInARow).toBe(0);
  });
});

describe('TokenBucket.charge', () => {
  it('spends what an answer cost even past empty: later messages wait until the debt is paid back', () => {
    const bucket = new TokenBucket(10, 20, 0);
    bucket.charge(0, 50);
    // 20 - 50 = -30: one token needs 31 back, 3.1 s at 10 a second.
    expect(bucket.take(0)).toBe(3_100);
    expect(bucket.take(3_100)).toBe(0);
  });
});

describe('historyAnswerCost', () => {
  it('is one token per started 64 Ki characters beyond the first (the request paid that one)', () => {
    expect(historyAnswerCost(10)).toBe(0);
    expect(historyAnswerCost(65_536)).toBe(0);
    expect(historyAnswerCost(65_537)).toBe(1);
    expect(historyAnswerCost(12_000_000)).toBe(183);
  });
});

describe('messageCost', () => {
  it('is one token per started KiB', () => {
    expect(messageCost(Buffer.alloc(0))).toBe(1);
    expect(messageCost(Buffer.alloc(1024))).toBe(1);
    expect(messageCost(Buffer.alloc(1025))).toBe(2);
    expect(messageCost([Buffer.alloc(1024), Buffer.alloc(1024)])).toBe(2);
    expect(messageCost(Buffer.alloc(60 * 1024))).toBe(60);
  });
});
