import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { RoomConfig } from '../config/server-config.js';
import { closeReasons, type CloseReasonName } from '../protocol/codes.js';
import type { RoomStatus } from '../../machines/admission/admission-types.js';
import type { ChatDecision } from '../../machines/chat/chat-types.js';
import type { ChatDelivery } from './chat-delivery.js';
import type { QueuedStatus, RoomMessage, ServerMessage } from '../protocol/messages.js';
import type { ConnectionEffects } from '../rooms/room-runtime.js';
import type { AdmissionTokenIssuer } from '../tokens/admission-tokens.js';
import type { ResumeTokens } from '../tokens/resume-tokens.js';
import { scheduleTokenRenewal } from '../tokens/token-renewal.js';
import type { AdmissionRate } from './admission-rate.js';
import { sendToClient, type ClientSocket } from './client-socket.js';

export interface SocketEffectsDeps {
  room: RoomConfig;
  clients: ReadonlyMap<string, ClientSocket>;
  issuer: AdmissionTokenIssuer;
  resumeTokens: ResumeTokens;
  rate: AdmissionRate;
  /** The protected site's origin, for the tokens' `aud`; null without a `--target-url`. */
  audience: string | null;
  outboundBudget: number;
  logger: Logger;
  queueChanged: () => void;
  /** A socket went over its outbound budget: report it to the room as a drop. */
  overflowed: (client: ClientSocket) => void;
  /** Called for every message sent, for metrics. */
  onSend?: (message: ServerMessage, client: ClientSocket) => void;
  /** A live room's chat at the edge; null in a room without chat. */
  chat: ChatDelivery | null;
}

/** Carries out, on real sockets, what the room's actors decide. */
export function createSocketEffects(deps: SocketEffectsDeps): ConnectionEffects {
  return new SocketEffects(deps);
}

/** One room's effects: each finds the connection's client and sends or closes; a gone client is skipped. */
class SocketEffects implements ConnectionEffects {
  readonly queueChanged: () => void;

  constructor(private readonly deps: SocketEffectsDeps) {
    this.queueChanged = deps.queueChanged;
  }

  sendQueuedStatus(conn: string, session: string, position: number, queueLength: number): void {
    const client = this.deps.clients.get(conn);
    if (!client) return;
    if (client.session !== session) {
      client.session = session;
      client.resumeToken = this.deps.resumeTokens.mint(this.deps.room.name, session);
    }
    client.sentPosition = position;
    this.send(client, queuedStatus(client, position, queueLength, this.deps.rate));
  }

  /** The seat is this client's: its active status goes out once its admission token is signed. */
  sendAdmission(conn: string, session: string): void {
    const client = this.deps.clients.get(conn);
    if (!client) return;
    // Only promotions from the line tell how fast it moves; walk-in admissions would skew the ETA.
    if (client.sentPosition > 0) this.deps.rate.record(Date.now());
    if (client.session !== session) {
      client.session = session;
      client.resumeToken = this.deps.resumeTokens.mint(this.deps.room.name, session);
    }
    client.sentPosition = 0;
    this.deps.logger.debug({ conn, session, room: this.deps.room.name }, 'admitted');
    void this.issueToken(client)
      .then((issued) => this.deliverAdmission(client, session, issued))
      .catch((error: unknown) => {
        // Outside the actor, so nothing else would catch it: the seat goes on to the next in line.
        this.deps.logger.error({ err: error, conn, session }, 'could not deliver an admission');
        closeForInternalError(client.ws, 'the server failed to deliver the admission');
        client.room.fault(client.conn, 'internal');
      });
  }

  refuseResume(conn: string): void {
    const client = this.deps.clients.get(conn);
    if (client) this.send(client, { type: 'error', code: 'bad_resume', message: 'no place is held for that resume token' });
  }

  closeSocket(conn: string, reason: CloseReasonName): void {
    const client = this.deps.clients.get(conn);
    if (!client) return;
    const { evicted } = closeReasons[reason];
    if (evicted !== null) {
      this.deps.logger.info({ conn, session: client.session, room: this.deps.room.name, reason: evicted }, 'evicted');
      this.send(client, { type: 'evicted', reason: evicted });
    }
    closeWith(client.ws, reason);
  }

  sendPingFrame(conn: string): void {
    const client = this.deps.clients.get(conn);
    if (client && client.ws.readyState === client.ws.OPEN) client.ws.ping();
  }

  terminateSocket(conn: string): void {
    this.deps.clients.get(conn)?.ws.terminate();
  }

  /** A live room's decision, kept in its history store. */
  storeChat(decision: ChatDecision): void {
    this.deps.chat?.store(decision);
  }

  /** A live room's decision, sent to the members it concerns. */
  chat(decision: ChatDecision): void {
    this.deps.chat?.decided(decision);
  }

  /**
   * Sends the `room` message to every connection in the room (an operator change or the draw: rare, so a full
   * pass), and has the next fan-out send every waiter a fresh status, which carries the new room status and,
   * after the draw, the drawn position.
   */
  roomChanged(): void {
    for (const client of this.deps.clients.values()) {
      if (client.room.name !== this.deps.room.name) continue;
      this.send(client, roomMessage(client.room));
      if (client.sentPosition !== 0) client.sentPosition = -1;
    }
    this.deps.queueChanged();
  }

  private send(client: ClientSocket, message: ServerMessage): boolean {
    const outcome = sendToClient(client, message, this.deps.outboundBudget);
    if (outcome === 'overflow') this.deps.overflowed(client);
    if (outcome === 'sent') this.deps.onSend?.(message, client);
    return outcome === 'sent';
  }

  /** Signed in the turn that admits (ES256 with a key object made once, about 0.1 ms); null, logged, when signing fails. */
  private async issueToken(client: ClientSocket): Promise<{ token: string; expiresAt: number } | null> {
    const { issuer, room, logger } = this.deps;
    try {
      const claims = { session: client.session, room: room.name, ...(this.deps.audience === null ? {} : { audience: this.deps.audience }) };
      return await issuer.issue(claims, room.tokenTtlMs, Date.now());
    } catch (error) {
      logger.error({ err: error, conn: client.conn, session: client.session }, 'could not sign an admission token');
      return null;
    }
  }

  private deliverAdmission(client: ClientSocket, session: string, issued: { token: string; expiresAt: number } | null): void {
    // The seat may have gone while the token was being signed.
    if (!client.room.isActive(client.conn)) return;
    if (!issued) {
      // A seat without a token is no use to anyone: tell the client and give the seat to the next in line.
      this.send(client, { type: 'error', code: 'internal', message: 'could not sign an admission token' });
      client.room.fault(client.conn, 'internal');
      return;
    }
    const { heartbeatIntervalMs, heartbeatTimeoutMs, tokenTtlMs } = this.deps.room;
    this.send(client, {
      type: 'status',
      status: 'active',
      session,
      // A held seat is given back for it after a restart.
      resumeToken: client.resumeToken,
      token: issued.token,
      expiresAt: issued.expiresAt,
      heartbeat: { intervalMs: heartbeatIntervalMs, timeoutMs: heartbeatTimeoutMs },
    });
    scheduleTokenRenewal(client, issued.expiresAt, {
      tokenTtlMs,
      issue: () => this.issueToken(client),
      stillActive: () => client.room.isActive(client.conn),
      deliver: (fresh) => this.send(client, { type: 'token', token: fresh.token, expiresAt: fresh.expiresAt }),
    });
    // From here the visitor holds a token: a failure costs it the welcome, never the seat, or the site would
    // see one more admitted than capacity until that token expired.
    try {
      // A live room's member learns who is present and what was said once it knows it is in.
      this.deps.chat?.welcome(client);
    } catch (error) {
      this.deps.logger.error({ err: error, conn: client.conn, session }, 'could not welcome an admitted member');
    }
  }
}

/** The `room` message: the room's status and notice as they stand. */
export function roomMessage(room: { readonly status: RoomStatus; readonly notice: string | null }): RoomMessage {
  return { type: 'room', status: room.status, notice: room.notice };
}

/** The queued `status` message for a client at `position`: the one builder, for placement and fan-out alike. */
export function queuedStatus(client: ClientSocket, position: number, queueLength: number, rate: AdmissionRate): QueuedStatus {
  const opensAt = client.room.admission.opensAt;
  // In the pre-queue no place has a position until the draw.
  if (opensAt !== null) return { ...placedStatus(client, null, queueLength, null), preQueue: true, opensAt };
  return placedStatus(client, position, queueLength, pacedEtaMs(rate.etaMs(position, Date.now()), position, client.room.admission.admissionRate));
}

function placedStatus(client: ClientSocket, position: number | null, queueLength: number, etaMs: number | null): QueuedStatus {
  return {
    type: 'status',
    status: 'queued',
    position,
    queueLength,
    session: client.session,
    resumeToken: client.resumeToken,
    etaMs,
    roomStatus: client.room.status,
    notice: client.room.notice,
    ...priorityOf(client),
  };
}

/** The priority the client's place holds in the line (a resumed place keeps its ticket's without the ticket). */
function priorityOf(client: ClientSocket): { priority?: number } {
  const admission = client.room.admission;
  const ticket = admission.ticketByConn.get(client.conn);
  const priority = ticket === undefined ? client.priority : admission.queue.priorityOf(ticket);
  return priority > 0 ? { priority } : {};
}

/**
 * The wait estimate with the admission rate taken into account: `position` admissions cannot come faster than
 * `admissionRate` per second, whatever the recent pace says. Null (no estimate) stays null without a rate.
 */
export function pacedEtaMs(estimateMs: number | null, position: number, admissionRate: number): number | null {
  if (admissionRate <= 0) return estimateMs;
  const floorMs = Math.round((position * 1000) / admissionRate);
  return estimateMs === null ? floorMs : Math.max(estimateMs, floorMs);
}

/**
 * Starts the close handshake with the reason's code and a short text (RFC 6455 §5.5.1 allows 123 bytes). A
 * socket already closing is left alone.
 */
export function closeWith(ws: WebSocket, reason: CloseReasonName): void {
  if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return;
  const { code, meaning } = closeReasons[reason];
  ws.close(code, meaning.split(/ \(|;/)[0]!.replaceAll('`', '').slice(0, 120));
}

/**
 * Closes for an internal error as the close-reason table says: `error{code:"internal", message}` first, then
 * 1011. For a socket that has no connection actor to do it (its actor failed, or it never got one).
 */
export function closeForInternalError(ws: WebSocket, message: string): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', code: 'internal', message } satisfies ServerMessage));
  closeWith(ws, 'internal');
}
