import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The baseline a waiting room is measured against: a plain-object room of a few lines, no actors, no log, no
 * tokens. A seat frees on close, the head of the line gets `active`, and every waiter behind is sent its new
 * position at once, on the same turn (the naive fan-out); leaves from the line are sent in one pass on the next
 * turn. Answers `ping` with `pong`. For benches only.
 */
export function servePlainRoom(http: Server, capacity: number): { queued: () => number; active: () => number } {
  const wss = new WebSocketServer({ server: http, maxPayload: 65_536, perMessageDeflate: false });
  const seats = new Set<WebSocket>();
  const line: WebSocket[] = [];
  let sessions = 0;
  const status = (position: number) => JSON.stringify({ type: 'status', status: 'queued', position, queueLength: line.length });
  const sendPositions = (from: number) => {
    for (let i = from; i < line.length; i++) line[i]!.send(status(i + 1));
  };
  let pending = false;
  const flushPositions = () => {
    pending = false;
    sendPositions(0);
  };
  const admit = (ws: WebSocket) => {
    seats.add(ws);
    ws.send(JSON.stringify({ type: 'status', status: 'active', session: `s${++sessions}` }));
  };
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data) => {
      if (data.toString().includes('"ping"')) ws.send(JSON.stringify({ type: 'pong', t: Date.now() }));
    });
    ws.on('close', () => {
      if (seats.delete(ws)) {
        const head = line.shift();
        if (head) admit(head);
        sendPositions(0);
        return;
      }
      const at = line.indexOf(ws);
      if (at < 0) return;
      line.splice(at, 1);
      // Leaves from the line are coalesced into one pass on the next turn, or a crowd leaving costs n² sends.
      if (!pending) setImmediate(flushPositions);
      pending = true;
    });
    if (seats.size < capacity) return admit(ws);
    line.push(ws);
    ws.send(status(line.length));
  });
  return { queued: () => line.length, active: () => seats.size };
}
