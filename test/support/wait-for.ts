/**
 * Resolves when `predicate` holds, polling every few ms; rejects after `timeoutMs` (a generous bound, not a
 * speed claim) saying what it waited for. Tests over real sockets wait for conditions with this, never for a
 * fixed time.
 */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
