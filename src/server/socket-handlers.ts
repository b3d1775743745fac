import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { ServerConfig } from '../config/server-config.js';
import type { CloseReasonName } from '../protocol/codes.js';
import type { ServerMessage } from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/parse-client-message.js';
import type { ResumeTokens } from '../tokens/resume-tokens.js';
import { sendSerialized, sendToClient, type ClientSocket } from './client-socket.js';
import type { ServerMetrics } from './metrics.js';
import { closeWith } from './socket-effects.js';
import type { ChatDelivery } from './chat-delivery.js';
import { packageVersion } from '../cli/package-version.js';

const serverVersion = packageVersion();

export interface SocketHandlerDeps {
  config: ServerConfig;
  logger: Logger;
  metrics: ServerMetrics;
  resumeTokens: ResumeTokens;
  /** Sustained refusals in a row after which a flooding client is closed with 1008. */
  floodCloseAfter: number;
  /** The socket closed: the server drops its bookkeeping (client table, connection counts). */
  forget: (client: ClientSocket) => void;
  /** The socket closed and the room holds its place for a resume: the place still counts for its address. */
  placeHeld?: (client: ClientSocket) => void;
  /** The live room's chat at the edge for a client's room; null when the room has no chat. */
  chatOf: (client: ClientSocket) => ChatDelivery | null;
  /** What the server offers a client in its room, for the `hello` answer (protocol v2 section 7). */
  features: (client: ClientSocket) => string[];
}

/** The protocol version this server speaks. */
export const protocolVersion = 2;

const clientOfSocket = Symbol('anteroom.client');
type TrackedSocket = WebSocket & { [clientOfSocket]?: ClientSocket };

/**
 * What an accepted socket's events do: frames in (rate limit, parse, hand to the room), pongs, errors and the
 * close. Each event enters the room once. The handlers are made once per server and shared by every socket,
 * which finds its client through the socket itself, so a connection costs no closures of its own.
 */
export function createSocketHandlers(deps: SocketHandlerDeps) {
  const edge = new SocketEdge(deps);

  function onMessage(this: TrackedSocket, data: RawData, isBinary: boolean): void {
    const client = this[clientOfSocket];
    // Frames that arrive once a close has begun are not acted on: a flood would be closed, and logged, per frame.
    if (client && this.readyState === this.OPEN) edge.guarded(client, () => edge.frame(client, data, isBinary));
  }

  function onPong(this: TrackedSocket): void {
    const client = this[clientOfSocket];
    if (client) edge.guarded(client, () => client.room.pong(client.conn));
  }

  function onError(this: TrackedSocket, error: Error & { code?: string }): void {
    const client = this[clientOfSocket];
    if (!client) return;
    deps.logger.debug({ conn: client.conn, session: client.session, err: error.message }, 'socket error');
    // ws has already started closing with the matching code; the room lets the connection go now.
    const reason = closeReasonForWsError(error.code);
    if (reason !== null) edge.guarded(client, () => client.room.fault(client.conn, reason));
  }

  function onClose(this: TrackedSocket, code: number): void {
    const client = this[clientOfSocket];
    if (!client) return;
    deps.forget(client);
    if (client.tokenRefresh) clearTimeout(client.tokenRefresh);
    deps.logger.debug({ conn: client.conn, session: client.session, room: client.room.name, code }, 'disconnected');
    edge.guarded(client, () => client.room.closed(client.conn, code));
    if (client.room.holdsPlaceFor(client.session)) deps.placeHeld?.(client);
  }

  return {
    reply: (client: ClientSocket, message: ServerMessage) => edge.reply(client, message),
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

/** What the edge does with a client's frames before, and instead of, the room. */
class SocketEdge {
  constructor(private readonly deps: SocketHandlerDeps) {}

  /** Sends `message` (already serialised as `json`, when given) under the outbound budget. */
  reply(client: ClientSocket, message: ServerMessage, json?: string): void {
    const budget = this.deps.config.outboundBudget;
    const outcome = json === undefined ? sendToClient(client, message, budget) : sendSerialized(client, json, budget);
    if (outcome === 'sent') this.deps.metrics.sent(message, client.conn);
    if (outcome === 'overflow') setImmediate(() => client.room.overflow(client.conn));
  }

  /** One frame: a binary one closes (1003); over the rate it is refused; else it is parsed and handed on. */
  frame(client: ClientSocket, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.reply(client, { type: 'error', code: 'binary_not_supported', message: 'send JSON in text frames' });
      return client.room.fault(client.conn, 'binary');
    }
    const waitMs = client.bucket.take(Date.now(), messageCost(data));
    if (waitMs > 0) return this.refuseFlood(client, waitMs);
    this.receive(client, data.toString());
  }

  /**
   * Runs one socket event; if handling it throws, the client is told (`internal`) and closed with 1011 rather
   * than the process failing or the socket hanging. The place is held, so the client's reconnect resumes it.
   */
  guarded(client: ClientSocket, handle: () => void): void {
    try {
      handle();
    } catch (error) {
      this.deps.logger.error({ err: error, conn: client.conn, session: client.session }, 'failed to handle a socket event');
      this.reply(client, { type: 'error', code: 'internal', message: 'the server failed to handle the message' });
      try {
        client.room.fault(client.conn, 'internal');
      } catch {
        closeWith(client.ws, 'internal');
      }
    }
  }

  /** Over the rate: refused (the refusal itself is rate limited), and closed with 1008 if it keeps on. */
  private refuseFlood(client: ClientSocket, waitMs: number): void {
    const { metrics, logger, floodCloseAfter } = this.deps;
    metrics.rateLimited.inc();
    const { bucket } = client;
    if (bucket.refusedInARow === 1 || bucket.refusedInARow % 10 === 0) {
      this.reply(client, { type: 'error', code: 'rate_limited', message: 'too many messages', retryAfterMs: waitMs });
    }
    if (bucket.refusedInARow >= floodCloseAfter) {
      logger.warn({ conn: client.conn, session: client.session, ip: client.ip }, 'flooding client closed');
      metrics.floodCloses.inc();
      client.room.fault(client.conn, 'flood');
    }
  }

  /** One text frame: parsed, answered where the edge answers (`pong`, refusals) and handed to the room. */
  private receive(client: ClientSocket, text: string): void {
    const { conn, room } = client;
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.reply(client, { type: 'error', code: parsed.code, message: parsed.message, ...(parsed.ref === undefined ? {} : { ref: parsed.ref }) });
      room.message(conn, { type: 'invalid', code: parsed.code });
      return;
    }
    const message = parsed.message;
    const ref = parsed.ref ?? null;
    switch (message.type) {
      case 'hello':
        this.hello(client, message.v, ref);
        return room.message(conn, message);
      case 'history': {
        if (!this.mayChat(client, message, ref)) return;
        // A read, answered here from the history store; recorded, and a heartbeat, like every message. Its answer
        // may be megabytes for a message of a few bytes, so the answer's size is paid for in the rate limit too.
        const page = this.deps.chatOf(client)!.page(message);
        const json = JSON.stringify(page);
        this.reply(client, page, json);
        client.bucket.charge(Date.now(), historyAnswerCost(json.length));
        return room.message(conn, message);
      }
      case 'say':
      case 'typing':
        if (!this.mayChat(client, message, ref)) return;
        return room.message(conn, message);
      case 'ping':
        this.reply(client, { type: 'pong', t: Date.now() });
        return room.message(conn, message);
      case 'resume':
        return room.message(conn, { type: 'resume', session: this.deps.resumeTokens.read(room.name, message.token) });
      case 'leave':
        return room.message(conn, message);
    }
  }

  /** `hello`: the server's version and features, or `unsupported_version` for a version it does not speak. */
  private hello(client: ClientSocket, v: number, ref: string | null): void {
    if (v !== protocolVersion) {
      return this.reply(client, { type: 'error', code: 'unsupported_version', message: `this server speaks protocol version ${protocolVersion}`, ...(ref === null ? {} : { ref }) });
    }
    this.reply(client, { type: 'hello', v: protocolVersion, server: `anteroom/${serverVersion}`, features: this.deps.features(client) });
  }

  /**
   * Chat the edge refuses itself: any in a room without chat, and `history` from a connection that is not a
   * member. Whether a `say` or `typing` comes from a member, the room decides (and refuses).
   */
  private mayChat(client: ClientSocket, message: { type: 'history' | 'say' | 'typing' }, ref: string | null): boolean {
    const live = this.deps.chatOf(client) !== null;
    if (live && (message.type !== 'history' || client.room.isMember(client.conn))) return true;
    const words = live ? 'only admitted members may chat' : 'this room has no chat';
    this.reply(client, { type: 'error', code: 'not_admitted', message: words, ...(ref === null ? {} : { ref }) });
    client.room.message(client.conn, { type: 'invalid', code: 'not_admitted' });
    return false;
  }
}

/**
 * What a message costs in rate-limit tokens: one per started KiB. Protocol messages are far under 1 KiB and
 * cost one; a client padding its messages up to the frame limit pays for the work it makes the server do, so
 * no one can keep the event loop busy with large messages inside the message rate.
 */
export function messageCost(data: RawData): number {
  const bytes = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** Characters of a `history` answer one rate-limit token pays for. */
export const historyAnswerCharsPerToken = 65_536;

/**
 * What a `history` answer of `chars` characters costs in rate-limit tokens beyond the one its request paid: one
 * per started 64 Ki characters after the first. A page of short messages costs nothing more; a member asking
 * for a full history of long messages over and over pays for the serialising it makes the server do.
 */
export function historyAnswerCost(chars: number): number {
  return Math.max(0, Math.ceil(chars / historyAnswerCharsPerToken) - 1);
}

/** The close reason of a connection ws failed for what the peer sent (its errors are all WS_ERR_*), else null. */
export function closeReasonForWsError(code: string | undefined): CloseReasonName | null {
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'tooLarge';
  if (code === 'WS_ERR_INVALID_UTF8') return 'badUtf8';
  if (code?.startsWith('WS_ERR_')) return 'protocolError';
  return null;
}
