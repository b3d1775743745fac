import { describe, expect, it } from 'vitest';
import { PasswordChecks } from '../../src/identity/password-checks.js';

/** A check that ends when its `finish` is called. */
function pendingCheck() {
  let finish!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (finish = resolve));
  return { start: () => promise, finish };
}

describe('password checks at once', () => {
  it('runs at most maxRunning, queues maxWaiting in arrival order, refuses the rest as busy', async () => {
    const checks = new PasswordChecks(2, 2);
    const started: number[] = [];
    const pending = Array.from({ length: 5 }, () => pendingCheck());
    const results = pending.map((check, i) =>
      checks.run(() => {
        started.push(i);
        return check.start();
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(await results[4]).toBe('busy');
    pending[1]!.finish('one');
    expect(await results[1]).toBe('one');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const check of pending) check.finish('done');
    expect(await Promise.all(results.slice(0, 4))).toEqual(['done', 'one', 'done', 'done']);
    expect(started).toEqual([0, 1, 2, 3]);
    // Every slot was given back: two run at once again.
    const again = [pendingCheck(), pendingCheck(), pendingCheck()];
    const late: number[] = [];
    again.forEach((check, i) => void checks.run(() => (late.push(i), check.start())));
    await Promise.resolve();
    expect(late).toEqual([0, 1]);
  });

  it('gives the slot back when a check throws', async () => {
    const checks = new PasswordChecks(1, 0);
    await expect(checks.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    expect(await checks.run(() => Promise.resolve(true))).toBe(true);
  });
});
