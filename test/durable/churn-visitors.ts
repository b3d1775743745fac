/**
 * Visitors churning against a server, run as a child process by the crash tests: joins one after another
 * (each waits for its first status), leaves, drops (sockets cut without a close frame) and resumes, chosen by a
 * seeded random generator. Every acknowledgement it gets and every departure it starts is appended to a file
 * with a synchronous write before anything else happens, so the file is a faithful record when the server is
 * killed at any point.
 *
 * Usage: node --import tsx churn-visitors.ts <ws url> <record file> <seed>
 */
import { appendFileSync } from 'node:fs';
import { WebSocket } from 'ws';

const [url, recordFile, seedText] = process.argv.slice(2) as [string, string, string];
let seed = Number(seedText) >>> 0 || 1;
/** mulberry32: small, seeded, good enough to pick actions. */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

interface Visitor {
  ws: WebSocket;
  session: string;
  token: string;
  status: 'queued' | 'active';
  position: number;
}

const open: Visitor[] = [];
const held: Visitor[] = [];
const note = (event: Record<string, unknown>) => appendFileSync(recordFile, JSON.stringify(event) + '\n');

/** Opens a socket (with a resume token in the URL when given) and resolves at its first status. */
function connect(resumeToken?: string): Promise<Visitor | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(resumeToken === undefined ? url : `${url}?resume=${encodeURIComponent(resumeToken)}`);
    let visitor: Visitor | null = null;
    ws.on('error', () => resolve(null));
    ws.on('close', () => resolve(null));
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, any>;
      if (message.type !== 'status') return;
      const first = visitor === null;
      visitor ??= { ws, session: message.session, token: message.resumeToken, status: message.status, position: 0 };
      if (message.status === 'queued') visitor.position = message.position;
      if (first || visitor.status !== message.status) note({ ev: 'ack', session: message.session, status: message.status, token: message.resumeToken });
      visitor.status = message.status;
      if (first) resolve(visitor);
    });
  });
}

function takeRandom<T>(list: T[], where: (item: T) => boolean): T | undefined {
  const candidates = list.filter(where);
  const pick = candidates[Math.floor(random() * candidates.length)];
  if (pick !== undefined) list.splice(list.indexOf(pick), 1);
  return pick;
}

async function churn(): Promise<void> {
  for (;;) {
    const roll = random();
    if (roll < 0.6 || open.length < 5) {
      const visitor = await connect();
      if (visitor === null) return; // the server is gone
      open.push(visitor);
    } else if (roll < 0.75) {
      const visitor = takeRandom(open, () => true);
      if (visitor) {
        note({ ev: 'leave', session: visitor.session });
        visitor.ws.send(JSON.stringify({ type: 'leave' }));
      }
    } else if (roll < 0.9) {
      // Only places far from the head: a promotion racing the drop would release a seat instead.
      const visitor = takeRandom(open, (v) => v.status === 'queued' && v.position > 30);
      if (visitor) {
        note({ ev: 'drop', session: visitor.session });
        visitor.ws.terminate();
        held.push(visitor);
      }
    } else {
      const visitor = takeRandom(held, () => true);
      if (visitor) {
        const back = await connect(visitor.token);
        if (back === null) return;
        open.push(back);
      }
    }
  }
}

await churn();
note({ ev: 'server-gone' });
