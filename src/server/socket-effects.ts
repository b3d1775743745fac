import type { Logger } from 'pino';
import type { RoomConfig } from '../config/server-config.js';
import { CloseCode, closeCodeMeaning } from '../protocol/codes.js';
import type { ServerMessage } from '../protocol/messages.js';
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
  outboundBudget: number;
  logger: Logger;
  queueChanged: () => void;
  /** A socket went over its outbound budget: report it to the room as a drop. */
  overflowed: (client: ClientSocket) => void;
  /** Called for every message sent, for metrics. */
  onSend?: (message: ServerMessage, client: ClientSocket) => void;
}

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

  const scheduleRenewal = (client: ClientSocket, expiresAt: number) =>
    scheduleTokenRenewal(client, expiresAt, {
      tokenTtlMs: deps.room.tokenTtlMs,
      issue: () => issueToken(client),
      stillActive: () => client.room.isActive(client.conn),
      deliver: (fresh) => send(client, { type: 'token', token: fresh.token, expiresAt: fresh.expiresAt }),
    });

  return {
    sendQueuedStatus(conn, session, position, queueLength) {
      const client = deps.clients.get(conn);
      if (!client) return;
      if (client.session !== session) {
        client.session = session;
        client.resumeToken = deps.resumeTokens.mint(deps.room.name, session);
      }
      client.sentPosition = position;
      send(client, {
        type: 'status',
        status: 'queued',
        position,
        queueLength,
        session,
        resumeToken: client.resumeToken,
        etaMs: deps.rate.etaMs(position, Date.now()),
      });
    },

    sendAdmission(conn, session) {
      const client = deps.clients.get(conn);
      if (!client) return;
      // Only promotions from the line tell how fast it moves; walk-in admissions would skew the ETA.
      if (client.sentPosition > 0) deps.rate.record(Date.now());
      client.session = session;
      client.sentPosition = 0;
      deps.logger.debug({ conn, session, room: deps.room.name }, 'admitted');
      void issueToken(client).then((issued) => {
        // The seat may have gone while the token was being signed.
        if (!issued || !client.room.isActive(conn)) return;
        send(client, {
          type: 'status',
          status: 'active',
          session,
          token: issued.token,
          expiresAt: issued.expiresAt,
          heartbeat: { intervalMs: deps.room.heartbeatIntervalMs, timeoutMs: deps.room.heartbeatTimeoutMs },
        });
        scheduleRenewal(client, issued.expiresAt);
      });
    },

    sendEvicted(conn, reason) {
      const client = deps.clients.get(conn);
      if (!client) return;
      deps.logger.info({ conn, session: client.session, room: deps.room.name, reason }, 'evicted');
      send(client, { type: 'evicted', reason });
    },

    sendError(conn, code, message) {
      const client = deps.clients.get(conn);
      if (client) send(client, { type: 'error', code, message });
    },

    sendPingFrame(conn) {
      const client = deps.clients.get(conn);
      if (client && client.ws.readyState === client.ws.OPEN) client.ws.ping();
    },

    closeSocket(conn, code) {
      const client = deps.clients.get(conn);
      if (!client) return;
      client.serverCloseCode ??= code;
      if (client.ws.readyState === client.ws.OPEN || client.ws.readyState === client.ws.CONNECTING) {
        client.ws.close(code, closeCodeMeaning[code] ?? '');
      }
    },

    terminateSocket(conn) {
      const client = deps.clients.get(conn);
      if (!client) return;
      client.serverCloseCode ??= CloseCode.abnormal;
      client.ws.terminate();
    },

    queueChanged: deps.queueChanged,
  };
}
