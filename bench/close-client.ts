import { WebSocket } from 'ws';

/** Closes a bench client's socket: `graceful` waits for the close handshake (1000), else it is cut. */
export function closeClient(ws: WebSocket, graceful: boolean): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  if (graceful) ws.close(1000);
  else ws.terminate();
  return closed;
}
