import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/log/event-log.js';
import { ServerMetrics } from '../../src/server/metrics.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'operations.md'), 'utf8');

/** The anteroom metrics a server registers (the process metrics are prom-client's, documented as a group). */
async function registeredMetrics(): Promise<string[]> {
  const metrics = new ServerMetrics({
    log: new EventLog(),
    rooms: new Map(),
    openConnections: () => 0,
    pendingHandshakes: () => 0,
    arrivalsWaiting: () => 0,
    processMetrics: false,
  });
  const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);
  metrics.close();
  return names.filter((name) => name.startsWith('anteroom_'));
}

describe('docs/operations.md', () => {
  it('has a row in the metrics table for every metric the server registers, and none it does not', async () => {
    const documented = [...doc.matchAll(/^\| `(anteroom_[a-z_]+)`/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual((await registeredMetrics()).sort());
  });
});
