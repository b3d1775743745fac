import type Database from 'better-sqlite3';
import type { ChatSeed } from '../../machines/chat/chat-types.js';
import type { AnteroomDatabase } from './anteroom-database.js';

/** A stored chat message, as `message` and `history` carry it (protocol v2 section 6). */
export interface ChatMessage {
  seq: number;
  id: string;
  from: { user: string; name: string };
  text: string;
  /** When the room accepted it, ms epoch. */
  at: number;
}

/** A page of history, oldest first; `more`: older messages than these exist. */
export interface HistoryPage {
  messages: ChatMessage[];
  more: boolean;
}

interface Row {
  seq: number;
  id: string;
  user: string;
  name: string;
  text: string;
  at: number;
}

const toMessage = (row: Row): ChatMessage => ({ seq: row.seq, id: row.id, from: { user: row.user, name: row.name }, text: row.text, at: row.at });

/**
 * Live rooms' history in the `chat_messages` table of `anteroom.db`: every accepted message is inserted as the
 * room decides it, and only the newest `limit` per room are kept. Synchronous (better-sqlite3): a read or write
 * is a few microseconds on an indexed table.
 */
export class ChatHistory {
  private readonly insertRow: Database.Statement;
  private readonly trimRows: Database.Statement;
  private readonly beforeRows: Database.Statement;
  private readonly afterRows: Database.Statement;
  private readonly olderExists: Database.Statement;
  private readonly bySeq: Database.Statement;
  private readonly lastSeqRow: Database.Statement;

  constructor(private readonly db: AnteroomDatabase) {
    this.insertRow = db.prepare('INSERT OR IGNORE INTO chat_messages (room, seq, id, user, name, text, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.trimRows = db.prepare('DELETE FROM chat_messages WHERE room = ? AND seq <= ?');
    this.beforeRows = db.prepare('SELECT seq, id, user, name, text, at FROM chat_messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?');
    this.afterRows = db.prepare('SELECT seq, id, user, name, text, at FROM chat_messages WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?');
    this.olderExists = db.prepare('SELECT 1 FROM chat_messages WHERE room = ? AND seq < ? LIMIT 1');
    this.bySeq = db.prepare('SELECT seq, id, user, name, text, at FROM chat_messages WHERE room = ? AND seq = ?');
    this.lastSeqRow = db.prepare('SELECT MAX(seq) AS seq FROM chat_messages WHERE room = ?');
  }

  /** Stores message `message` of `room` and forgets the room's messages older than the newest `limit`. */
  add(room: string, message: ChatMessage, limit: number): void {
    const { seq, id, from, text, at } = message;
    this.insertRow.run(room, seq, id, from.user, from.name, text, at);
    if (seq > limit) this.trimRows.run(room, seq - limit);
  }

  /** The `limit` newest messages with `seq < before`, oldest first. */
  before(room: string, before: number, limit: number): HistoryPage {
    const messages = (this.beforeRows.all(room, before, limit) as Row[]).reverse().map(toMessage);
    return { messages, more: this.hasOlder(room, messages[0]?.seq ?? before) };
  }

  /** The messages with `seq > after`, oldest first, at most `limit`; `more` says whether older ones than these exist. */
  after(room: string, after: number, limit: number): HistoryPage {
    const messages = (this.afterRows.all(room, after, limit) as Row[]).map(toMessage);
    return { messages, more: this.hasOlder(room, messages[0]?.seq ?? after + 1) };
  }

  /** Message `seq` of `room`, if it is still kept. */
  at(room: string, seq: number): ChatMessage | null {
    const row = this.bySeq.get(room, seq) as Row | undefined;
    return row ? toMessage(row) : null;
  }

  /** Where a room's chat goes on from at start: its last seq and the (user, id, seq) of its kept messages. */
  seed(room: string): ChatSeed {
    const seq = (this.lastSeqRow.get(room) as { seq: number | null }).seq ?? 0;
    const rows = this.db.prepare('SELECT user, id, seq FROM chat_messages WHERE room = ? ORDER BY seq').all(room) as { user: string; id: string; seq: number }[];
    return { seq, said: rows.map((row) => [row.user, row.id, row.seq]) };
  }

  private hasOlder(room: string, seq: number): boolean {
    return this.olderExists.get(room, seq) !== undefined;
  }
}
