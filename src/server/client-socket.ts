import type { WebSocket } from 'ws';
import type { ServerMessage } from '../protocol/messages.js';
import type { RoomRuntime } from '../rooms/room-runtime.js';
import type { TokenBucket } from './token-bucket.js';

/** The edge's view of one connected socket. The connection actor holds the protocol state; this holds I/O. */
export interface ClientSocket {
  readonly conn: string;
  readonly ws: WebSocket;
  readonly room: RoomRuntime;
  readonly ip: string;
  /** The session whose place this socket holds (changes on resume). */
  session: string;
  resumeToken: string;
  /** Last position sent, so a fan-out sends only changes (0 = none yet). */
  sentPosition: number;
  tokenRefresh: ReturnType<typeof setTimeout> | null;
  /** Set once the socket went over its outbound budget; nothing more is sent to it. */
  overflowed: boolean;
  /** Its message rate limit. */
  readonly bucket: TokenBucket;
  /** Its place's priority, from a verified join ticket (0 without one). */
  readonly priority: number;
  /**
   * In a live room: set once the member got its `presence` and `history` (after its active status), and from then
   * on gets the room's chat; cleared when it stops being a member.
   */
  chatWelcomed: boolean;
}

export type SendOutcome = 'sent' | 'skipped' | 'overflow';

/**
 * Sends one message unless the socket is gone or too far behind. Over `budget` bytes queued, the socket
 * is treated as dead (the caller reports an overflow); position updates are skipped earlier, at `softLimit`,
 * because a newer one will follow.
 */
export function sendToClient(client: ClientSocket, message: ServerMessage, budget: number, softLimit = Infinity): SendOutcome {
  return sendUnderBudget(client, budget, softLimit, () => JSON.stringify(message));
}

/**
 * Sends a message already serialised (a broadcast serialises once for every recipient), under the same budget
 * rule as `sendToClient`.
 */
export function sendSerialized(client: ClientSocket, json: string, budget: number): SendOutcome {
  return sendUnderBudget(client, budget, Infinity, () => json);
}

/** The budget rule itself; the text is made only when it is sent. */
function sendUnderBudget(client: ClientSocket, budget: number, softLimit: number, text: () => string): SendOutcome {
  const ws = client.ws;
  if (client.overflowed || ws.readyState !== ws.OPEN) return 'skipped';
  if (ws.bufferedAmount > budget) {
    client.overflowed = true;
    return 'overflow';
  }
  if (ws.bufferedAmount > softLimit) return 'skipped';
  ws.send(text());
  return 'sent';
}
