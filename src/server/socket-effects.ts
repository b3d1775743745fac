import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { RoomConfig } from '../config/server-config.js';
import { closeReasons, type CloseReasonName } from '../protocol/codes.js';
import type { QueuedStatus, ServerMessage } from '../protocol/messages.js';
import type { ConnectionEffects } from '../rooms/room-runtime.js';
import type { AdmissionTokenIssuer } from '../tokens/admission-tokens.js';
import type { ResumeTokens } from '../tokens/resume-tokens.js';
import type { AdmissionRate } from './admission-rate.js';
import { sendToClient, type ClientSocket } from './client-socket.js';

export interface SocketEffectsDeps {
  room: RoomConfig;
  clients: ReadonlyMap<string, ClientSocket>;
  issuer: AdmissionTokenIssuer;
  resumeTokens: ResumeTokens;
  rate: AdmissionRate;
  outboundBudget: number;
  logger: Logger;
  queueChanged: () => void;
  /** A socket went over its outbound budget: report it to the room as a drop. */
  overflowed: (client: ClientSocket) => void;
  /** Called for every message sent, for metrics. */
  onSend?: (message: ServerMessage, client: ClientSocket) => void;
}

/** Renews an admission token this long before it expires (or a fifth of its lifetime, if shorter). */
const tokenRenewLeadMs = 30_000;

/** Carries out, on real sockets, what the room's actors decide. */
export function createSocketEffects(deps: SocketEffectsDeps): ConnectionEffects {
  const send = (client: ClientSocket, message: ServerMessage): boolean => {
    const outcome = sendToClient(client, message, deps.outboundBudget);
    if (outcome === 'overflow') deps.overflowed(client);
    if (outcome === 'sent') deps.onSend?.(message, client);
    return outcome === 'sent';
  };

  const issueToken = async (client: ClientSocket): Promise<{ token: string; expiresAt: number } | null> => {
    try {
      return await deps.issuer.issue({ session: client.session, room: deps.room.name }, deps.room.tokenTtlMs, Date.now());
    } catch (error) {
      deps.logger.error({ err: error, conn: client.conn, session: client.session }, 'could not sign an admission token');
      return null;
    }
  };

  const scheduleRenewal = (client: ClientSocket, expiresAt: number) => {
    const lead = Math.min(tokenRenewLeadMs, deps.room.tokenTtlMs / 5);
    client.tokenRefresh = setTimeout(async () => {
      client.tokenRefresh = null;
      if (!client.room.isActive(client.conn)) return;
      const fresh = await issueToken(client);
      if (!fresh || !client.room.isActive(client.conn)) return;
      send(client, { type: 'token', token: fresh.token, expiresAt: fresh.expiresAt });
      scheduleRenewal(client, fresh.expiresAt);
    }, Math.max(0, expiresAt - lead - Date.now()));
    client.tokenRefresh.unref?.();
  };

  return {
    sendQueuedStatus(conn, session, position, queueLength) {
      const client = deps.clients.get(conn);
      if (!client) return;
      if (client.session !== session) {
        client.session = session;
        client.resumeToken = deps.resumeTokens.mint(deps.room.name, session);
      }
      client.sentPosition = position;
      send(client, queuedStatus(client, position, queueLength, deps.rate));
    },

    sendAdmission(conn, session) {
      const client = deps.clients.get(conn);
      if (!client) return;
      // Only promotions from the line tell how fast it moves; walk-in admissions would skew the ETA.
      if (client.sentPosition > 0) deps.rate.record(Date.now());
      if (client.session !== session) {
        client.session = session;
        client.resumeToken = deps.resumeTokens.mint(deps.room.name, session);
      }
      client.sentPosition = 0;
      deps.logger.debug({ conn, session, room: deps.room.name }, 'admitted');
      void issueToken(client).then((issued) => {
        // The seat may have gone while the token was being signed.
        if (!client.room.isActive(conn)) return;
        if (!issued) {
          // A seat without a token is no use to anyone: tell the client and give the seat to the next in line.
          send(client, { type: 'error', code: 'internal', message: 'could not sign an admission token' });
          client.room.fault(conn, 'internal');
          return;
        }
        send(client, {
          type: 'status',
          status: 'active',
          session,
          // A held seat is given back for it after a restart.
          resumeToken: client.resumeToken,
          token: issued.token,
          expiresAt: issued.expiresAt,
          heartbeat: { intervalMs: deps.room.heartbeatIntervalMs, timeoutMs: deps.room.heartbeatTimeoutMs },
        });
        scheduleRenewal(client, issued.expiresAt);
      });
    },

    refuseResume(conn) {
      const client = deps.clients.get(conn);
      if (client) send(client, { type: 'error', code: 'bad_resume', message: 'no place is held for that resume token' });
    },

    closeSocket(conn, reason) {
      const client = deps.clients.get(conn);
      if (!client) return;
      const { evicted } = closeReasons[reason];
      if (evicted !== null) {
        deps.logger.info({ conn, session: client.session, room: deps.room.name, reason: evicted }, 'evicted');
        send(client, { type: 'evicted', reason: evicted });
      }
      closeWith(client.ws, reason);
    },

    sendPingFrame(conn) {
      const client = deps.clients.get(conn);
      if (client && client.ws.readyState === client.ws.OPEN) client.ws.ping();
    },

    terminateSocket(conn) {
      deps.clients.get(conn)?.ws.terminate();
    },

    queueChanged: deps.queueChanged,
  };
}

/** The queued `status` message for a client at `position`: the one builder, for placement and fan-out alike. */
export function queuedStatus(client: ClientSocket, position: number, queueLength: number, rate: AdmissionRate): QueuedStatus {
  return {
    type: 'status',
    status: 'queued',
    position,
    queueLength,
    session: client.session,
    resumeToken: client.resumeToken,
    etaMs: rate.etaMs(position, Date.now()),
  };
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
