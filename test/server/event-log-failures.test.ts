import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseServeArgs } from '../../src/config/server-config.js';
import { readEventLog } from '../../src/log/read-event-log.js';
import { replay } from '../../src/log/replay.js';
import { createAnteroomServer } from '../../src/server/anteroom-server.js';
import { createLogger } from '../../src/server/logger.js';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { waitFor } from './hardening/raw-websocket.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'anteroom-event-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(closeAll);

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', false, { write: (chunk: string) => chunk.split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l))) });
  return { logger, lines };
}

describe('the event log file', () => {
  it('that cannot be opened stops the start with an error naming the path', async () => {
    const path = join(dir, 'missing-directory', 'events.jsonl');
    const config = parseServeArgs(['--port', '0', '--event-log', path], {});
    const start = createAnteroomServer(config, { logger: createLogger('silent', false) });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(`--event-log ${path}: cannot open the event log for appending (ENOENT`);
  });

  it('that cannot be opened makes the command exit 2, saying why on stderr', async () => {
    const path = join(dir, 'missing-directory', 'events.jsonl');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--port', '0', '--event-log', path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain(`anteroom: --event-log ${path}: cannot open the event log`);
  });

  it('that fails while serving is logged, counted and turns /readyz not ready', async () => {
    const { logger, lines } = memoryLogger();
    const live = await startServer(['--event-log', '/dev/full'], { logger });
    const client = await TestClient.placed(live.url);
    await waitFor('the write failure to be reported', () => lines.some((line) => line.msg === 'event log write failed; records are being lost'));
    expect(lines.find((line) => line.msg === 'event log write failed; records are being lost')).toMatchObject({ level: 50, path: '/dev/full' });
    const ready = await fetch(`${live.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'event log write failed' });
    const metrics = await live.server.metrics.render();
    expect(Number(/^anteroom_event_log_records_lost_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // Serving goes on: the line is not hurt by a lost log.
    expect(client.lastStatus?.status).toBe('active');
    client.terminate();
    await expect(live.close()).rejects.toThrow(/ENOSPC/);
  });
});

describe('an event log file appended to across runs', () => {
  it('numbers on from the last record, so seq stays unique, and the whole file replays', async () => {
    const path = join(dir, 'two-runs.jsonl');
    for (let run = 0; run < 2; run++) {
      const live = await startServer(['--event-log', path, '--capacity', '1']);
      const client = await TestClient.placed(live.url);
      client.send({ type: 'leave' });
      await client.closed;
      await live.close();
    }
    const { records, torn } = await readEventLog(path);
    expect(torn).toBeNull();
    expect(records.filter((record) => record.kind === 'room.opened')).toHaveLength(2);
    const seqs = records.map((record) => record.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    expect(replay(records)).toMatchObject({ ok: true });
  });
});
