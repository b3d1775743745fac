import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, redactionCensor } from '../../../src/server/logger.js';
import { closeAll, startServer, TestClient, type LiveServer } from '../../support/live-server.js';
import { waitFor } from './raw-websocket.js';

/** A pino destination that keeps every line in memory. */
function memoryDestination() {
  const lines: string[] = [];
  return {
    lines,
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') lines.push(line);
    },
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

let live: LiveServer | undefined;

afterEach(closeAll);

describe('structured logs', () => {
  it('writes JSON lines with the level filter and redacts secrets wherever they sit', () => {
    const destination = memoryDestination();
    const logger = createLogger('info', false, destination);
    logger.debug({ conn: 'c1' }, 'below the level');
    logger.info(
      {
        token: 'jwt-1',
        resumeToken: 'resume-1',
        adminToken: 'admin-1',
        authorization: 'Bearer admin-2',
        message: { token: 'jwt-2', resumeToken: 'resume-2' },
        headers: { authorization: 'Bearer admin-3', cookie: 'sid=1' },
        request: { headers: { authorization: 'Bearer admin-4' } },
        config: { adminToken: 'admin-5', port: 80 },
      },
      'secrets',
    );
    expect(destination.lines).toHaveLength(1);
    const text = destination.lines[0]!;
    for (const secret of ['jwt-1', 'jwt-2', 'resume-1', 'resume-2', 'admin-1', 'admin-2', 'admin-3', 'admin-4', 'admin-5', 'sid=1']) {
      expect(text).not.toContain(secret);
    }
    const record = JSON.parse(text);
    expect(record).toMatchObject({ level: 30, msg: 'secrets', service: 'anteroom', token: redactionCensor, config: { port: 80 } });
    expect(record.message).toEqual({ token: redactionCensor, resumeToken: redactionCensor });
  });

  it('tags every line about a session with its session and conn, and never logs a token', async () => {
    const destination = memoryDestination();
    const adminToken = 'operator-secret-4f9c2a';
    live = await startServer(
      ['--capacity', '1', '--rate-limit', '5', '--admin-token', adminToken],
      { logger: createLogger('debug', false, destination) },
    );
    const seated = await TestClient.placed(live.url);
    const queued = await TestClient.placed(live.url);
    const admission = seated.lastStatus!;
    const resumeToken = queued.lastStatus!.resumeToken as string;
    expect(admission.token).toBeTypeOf('string');

    // A queued client vanishes and comes back with its resume token on a new connection.
    queued.terminate();
    await queued.closed;
    const returning = await TestClient.placed(live.url);
    returning.send({ type: 'resume', token: resumeToken });
    await returning.until((s) => s.session === queued.lastStatus!.session);

    // An operator kicks the seated session with the bearer token; a bad bearer is refused.
    const kick = (bearer: string) =>
      fetch(`${live!.httpUrl}/api/rooms/main/kick`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ session: admission.session }),
      });
    expect((await kick('wrong-token')).status).toBe(401);
    expect((await kick(adminToken)).status).toBe(200);
    expect((await seated.closed).code).toBe(4008);
    await returning.until((s) => s.status === 'active');
    const activeToken = returning.lastStatus!.token as string;

    // A flood closes the newest client.
    const flooder = await TestClient.placed(live.url);
    for (let i = 0; i < 100; i++) flooder.send({ type: 'ping' });
    expect((await flooder.closed).code).toBe(1008);
    await returning.close();
    await waitFor('the last disconnect to be logged', () => destination.records().filter((r) => r.msg === 'disconnected').length >= 4);

    const records = destination.records();
    const text = destination.lines.join('\n');
    for (const secret of [admission.token as string, activeToken, resumeToken, adminToken]) expect(text).not.toContain(secret);

    const aboutSessions = ['connected', 'admitted', 'evicted', 'disconnected', 'flooding client closed'];
    for (const msg of aboutSessions) {
      expect(records.some((r) => r.msg === msg), `a "${msg}" line`).toBe(true);
    }
    for (const record of records) {
      if (aboutSessions.includes(record.msg as string) || 'conn' in record || 'session' in record) {
        expect(record.conn, JSON.stringify(record)).toMatch(/^[\w-]{12}$/);
        expect(record.session, JSON.stringify(record)).toMatch(/^[\w-]{21}$/);
      }
    }
    // The resumed connection's lines carry the session it took back, not the fresh one it was given.
    const kicked = records.find((r) => r.msg === 'evicted' && r.reason === 'kicked');
    expect(kicked?.session).toBe(admission.session);
    const resumedAdmission = records.filter((r) => r.msg === 'admitted').at(-1);
    expect(resumedAdmission?.session).toBe(queued.lastStatus!.session);
  });
});
