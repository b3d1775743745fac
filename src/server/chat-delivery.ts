import type { Logger } from 'pino';
import { admissionHistorySize, maxHistoryAfter, type ChatDecision } from '../../machines/chat/chat-types.js';
import type { HistoryRequest, ServerMessage } from '../protocol/messages.js';
import type { RoomRuntime } from '../rooms/room-runtime.js';
import type { ChatHistory, ChatMessage } from '../store/chat-history.js';
import { sendSerialized, type ClientSocket } from './client-socket.js';

export interface ChatDeliveryDeps {
  runtime: () => RoomRuntime;
  clients: ReadonlyMap<string, ClientSocket>;
  history: ChatHistory;
  /** Messages kept for the room. */
  historyLimit: number;
  outboundBudget: number;
  logger: Logger;
  /** A socket went over its outbound budget: report it to the room as a drop (on a later turn). */
  overflowed: (client: ClientSocket) => void;
  /** `count` messages of `type` went out, for metrics. */
  sent: (message: ServerMessage, count: number) => void;
}

/**
 * One live room's chat at the edge: stores what the room accepted, and sends each decision to the members it
 * concerns. A broadcast is serialised once and the same text goes to every recipient, in the order the room
 * decided, so every member sees the same order; a member that reads too slowly goes over its outbound budget
 * and is dropped like any slow reader, never holding up the others.
 */
export class ChatDelivery {
  private readonly room: string;

  constructor(
    room: string,
    private readonly deps: ChatDeliveryDeps,
  ) {
    this.room = room;
  }

  /** Keeps an accepted message in the room's history (as the room decides it, before anyone is told). */
  store(decision: ChatDecision): void {
    if (decision.type !== 'said') return;
    this.deps.history.add(this.room, chatMessageOf(decision), this.deps.historyLimit);
  }

  /** Carries out one chat decision of the room. */
  decided(decision: ChatDecision): void {
    switch (decision.type) {
      case 'memberJoined':
        if (decision.first) this.broadcast({ type: 'presence', joined: { user: decision.user, name: decision.name } });
        return;
      case 'memberLeft': {
        const client = this.deps.clients.get(decision.conn);
        if (client) client.chatWelcomed = false;
        if (decision.last) this.broadcast({ type: 'presence', left: { user: decision.user, name: decision.name } });
        return;
      }
      case 'said':
        this.deps.logger.debug({ room: this.room, conn: decision.conn, seq: decision.seq, correlationId: decision.id }, 'chat message');
        return this.broadcast({ type: 'message', ...chatMessageOf(decision) });
      case 'sayRepeated':
        return this.repeat(decision.conn, decision.seq, decision.id);
      case 'typingChanged':
        return this.broadcast({ type: 'typing', from: { user: decision.user, name: decision.name }, state: decision.state }, decision.user);
      case 'chatRefused': {
        const ref = decision.ref === null ? {} : { ref: decision.ref };
        this.deps.logger.debug({ room: this.room, conn: decision.conn, ...(decision.ref === null ? {} : { correlationId: decision.ref }) }, 'chat refused: not admitted');
        return this.sendTo(decision.conn, { type: 'error', code: 'not_admitted', message: 'only admitted members may chat', ...ref });
      }
      case 'typingExtended':
        return;
    }
  }

  /**
   * A member's admission went out (its active status): it now gets who is present and the newest messages, and
   * from then on the room's chat. Messages accepted in between are in that history already.
   */
  welcome(client: ClientSocket): void {
    const runtime = this.deps.runtime();
    if (client.chatWelcomed || !runtime.isMember(client.conn)) return;
    client.chatWelcomed = true;
    this.sendTo(client.conn, { type: 'presence', members: runtime.members() });
    const page = this.deps.history.before(this.room, Number.MAX_SAFE_INTEGER, admissionHistorySize);
    this.sendTo(client.conn, { type: 'history', ...page });
  }

  /** A `history` request of a member: a page before a seq, or what follows one (at most `maxHistoryAfter`). */
  page(request: HistoryRequest): ServerMessage {
    const { history, historyLimit } = this.deps;
    const page = 'after' in request ? history.after(this.room, request.after, Math.min(historyLimit, maxHistoryAfter)) : history.before(this.room, request.before, request.limit);
    return { type: 'history', ...page };
  }

  /** The original of a repeated `say`, to its sender only. */
  private repeat(conn: string, seq: number, id: string): void {
    const original = this.deps.history.at(this.room, seq);
    this.deps.logger.debug({ room: this.room, conn, seq, correlationId: id }, 'chat message repeated');
    if (original) this.sendTo(conn, { type: 'message', ...original });
  }

  /** Serialises once, then sends to every welcomed member (but `except`'s own connections). */
  private broadcast(message: ServerMessage, except?: string): void {
    const runtime = this.deps.runtime();
    const json = JSON.stringify(message);
    let count = 0;
    for (const conn of runtime.memberConnections()) {
      const client = this.deps.clients.get(conn);
      if (!client?.chatWelcomed || (except !== undefined && runtime.memberOf(conn) === except)) continue;
      if (this.deliver(client, json)) count++;
    }
    if (count > 0) this.deps.sent(message, count);
  }

  private sendTo(conn: string, message: ServerMessage): void {
    const client = this.deps.clients.get(conn);
    if (client && this.deliver(client, JSON.stringify(message))) this.deps.sent(message, 1);
  }

  private deliver(client: ClientSocket, json: string): boolean {
    const outcome = sendSerialized(client, json, this.deps.outboundBudget);
    if (outcome === 'overflow') this.deps.overflowed(client);
    return outcome === 'sent';
  }
}

/** A `said` decision as the message members get and the history keeps. */
function chatMessageOf(decision: Extract<ChatDecision, { type: 'said' }>): ChatMessage {
  const { seq, id, user, name, text, at } = decision;
  return { seq, id, from: { user, name }, text, at };
}
