import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { ServerConfig } from '../config/server-config.js';
import { CloseCode, closeCodeMeaning } from '../protocol/codes.js';
import type { ServerMessage } from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/parse-client-message.js';
import type { ResumeTokens } from '../tokens/resume-tokens.js';
import { sendToClient, type ClientSocket } from './client-socket.js';
import type { ServerMetrics } from './metrics.js';

export interface SocketHandlerDeps {
  config: ServerConfig;
  logger: Logger;
  metrics: ServerMetrics;
  resumeTokens: ResumeTokens;
  /** Sustained refusals in a row after which a flooding client is closed with 1008. */
  floodCloseAfter: number;
  /** The socket closed: the server drops its bookkeeping (client table, connection counts). */
  forget: (client: ClientSocket) => void;
}

const clientOfSocket = Symbol('anteroom.client');
type TrackedSocket = WebSocket & { [clientOfSocket]?: ClientSocket };

/**
 * What an accepted socket's events do: frames in (rate limit, parse, hand to the room), pongs, errors and the
 * close. The handlers are made once per server and shared by every socket, which finds its client through
 * the socket itself, so a connection costs no closures of its own.
 */
export function createSocketHandlers(deps: SocketHandlerDeps) {
  const { config, logger, metrics, resumeTokens } = deps;

  function reply(client: ClientSocket, message: ServerMessage): void {
    const outcome = sendToClient(client, message, config.outboundBudget);
    if (outcome === 'sent') metrics.sent(message, client.conn);
    if (outcome === 'overflow') setImmediate(() => client.room.overflow(client.conn));
  }

  /** The server ends the connection for what the client did: its place is released, not held. */
  function closeByServer(client: ClientSocket, code: number): void {
    client.serverCloseCode ??= code;
    client.ws.close(code, closeCodeMeaning[code] ?? '');
  }

  function onMessage(this: TrackedSocket, data: RawData, isBinary: boolean): void {
    const client = this[clientOfSocket];
    // Frames that arrive once a close has begun are not acted on: a flood would be closed, and logged, per frame.
    if (!client || this.readyState !== this.OPEN) return;
    const { conn, room } = client;
    if (isBinary) {
      reply(client, { type: 'error', code: 'binary_not_supported', message: 'send JSON in text frames' });
      room.message(conn, { type: 'invalid', code: 'binary_not_supported' });
      closeByServer(client, CloseCode.unsupportedData);
      return;
    }
    const waitMs = client.bucket.take(Date.now());
    if (waitMs > 0) {
      metrics.rateLimited.inc();
      if (client.bucket.refusedInARow === 1 || client.bucket.refusedInARow % 10 === 0) {
        reply(client, { type: 'error', code: 'rate_limited', message: 'too many messages', retryAfterMs: waitMs });
      }
      if (client.bucket.refusedInARow >= deps.floodCloseAfter) {
        logger.warn({ conn, session: client.session, ip: client.ip }, 'flooding client closed');
        metrics.floodCloses.inc();
        closeByServer(client, CloseCode.policyViolation);
      }
      return;
    }
    const parsed = parseClientMessage(data.toString());
    if (!parsed.ok) {
      reply(client, { type: 'error', code: parsed.code, message: parsed.message });
      room.message(conn, { type: 'invalid', code: parsed.code });
      return;
    }
    const message = parsed.message;
    if (message.type === 'ping') {
      reply(client, { type: 'pong', t: Date.now() });
      room.message(conn, { type: 'ping' });
    } else if (message.type === 'leave') {
      room.message(conn, { type: 'leave' });
    } else {
      room.message(conn, { type: 'resume', session: resumeTokens.read(room.name, message.token) });
    }
  }

  function onPong(this: TrackedSocket): void {
    const client = this[clientOfSocket];
    if (client) client.room.pong(client.conn);
  }

  function onError(this: TrackedSocket, error: Error & { code?: string }): void {
    const client = this[clientOfSocket];
    if (!client) return;
    logger.debug({ conn: client.conn, session: client.session, err: error.message }, 'socket error');
    // ws has already failed the connection with the matching close code; the place is released, not held.
    client.serverCloseCode ??= closeCodeForWsError(error.code);
  }

  function onClose(this: TrackedSocket, code: number): void {
    const client = this[clientOfSocket];
    if (!client) return;
    deps.forget(client);
    if (client.tokenRefresh) clearTimeout(client.tokenRefresh);
    const effectiveCode = client.serverCloseCode ?? code;
    logger.debug({ conn: client.conn, session: client.session, room: client.room.name, code: effectiveCode }, 'disconnected');
    client.room.closed(client.conn, effectiveCode);
  }

  return {
    reply,
    /** Routes the socket's events to its client and its room. */
    attach(client: ClientSocket): void {
      const ws = client.ws as TrackedSocket;
      ws[clientOfSocket] = client;
      ws.on('message', onMessage);
      ws.on('pong', onPong);
      ws.on('error', onError);
      ws.on('close', onClose);
    },
  };
}

/** The close code ws sends when it fails a connection for what the peer sent (its errors are all WS_ERR_*). */
export function closeCodeForWsError(code: string | undefined): number {
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return CloseCode.messageTooBig;
  if (code === 'WS_ERR_INVALID_UTF8') return CloseCode.invalidPayload;
  if (code?.startsWith('WS_ERR_')) return CloseCode.protocolError;
  return CloseCode.abnormal;
}
