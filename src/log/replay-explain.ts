import { closeReasonForCode, closeReasons } from '../protocol/codes.js';
import type { RoomConfig } from '../config/server-config.js';
import { isChatRecord, isInputRecord, type DecisionRecord, type EventRecord, type InputRecord } from './event-record.js';
import { FoldError, RoomFold, type FoldedRoom } from './room-fold.js';

/** One line of a session's story. */
export interface TimelineEntry {
  seq: number;
  at: number;
  text: string;
}

/** One session's story from the log: its entries in order, its connections, and how long it waited and sat (ms). */
export interface SessionTimeline {
  session: string;
  room: string;
  /** Sessions of fresh places that were given up for this one by a `resume`. */
  aliases: string[];
  conns: string[];
  entries: TimelineEntry[];
  /** Time from joining to the first admission, ms; null when never admitted. */
  waitedMs: number | null;
  /** Time from the first admission to leaving the seat, ms; null when never admitted or still seated at the end. */
  seatedMs: number | null;
}

/**
 * The story of one session, told from the event log alone: when it connected and joined the line, each
 * position it moved to and why (who ahead of it left), why it was admitted (what freed the seat) and how it
 * ended. `session` may be a unique prefix of the session id. Positions are read from the room as the fold of
 * its decisions (`RoomFold`) stands after each record, so they are exactly the ones the room computed.
 */
export function explainSession(records: readonly EventRecord[], session: string): SessionTimeline | { error: string } {
  const target = resolveSession(records, session);
  if (typeof target !== 'string') return target;
  const aliases = new Set<string>();
  for (const record of records) {
    if (record.kind === 'resumed' && record.data.session === target && record.data.replacedSession !== null) aliases.add(record.data.replacedSession);
  }
  const story = new SessionStory(target, aliases);
  try {
    for (const record of records) story.read(record);
  } catch (error) {
    if (error instanceof FoldError) return { error: error.message };
    throw error;
  }
  return story.timeline();
}

/** Reasons a seat or place ends that come from outside the session, worded the same for releases and evictions. */
const endedFromOutside: Readonly<Record<string, string>> = {
  kicked: 'an operator kicked it',
  room_closed: 'the room was closed',
  shutdown: 'the server shut down',
};

type Ending = Extract<DecisionRecord, { kind: 'released' | 'evicted' }>;

/** Reads a log record by record and narrates what happened to one session. */
class SessionStory {
  private readonly fold = new RoomFold();
  private readonly entries: TimelineEntry[] = [];
  private readonly conns = new Set<string>();
  private room: string | null = null;
  /** The session's place in line as last told (0: not in line). */
  private position = 0;
  private joinedAt: number | null = null;
  private admittedAt: number | null = null;
  private leftSeatAt: number | null = null;
  private lastMessage: EventRecord | null = null;
  /** The input being applied, and the decisions it has produced so far. */
  private input: InputRecord | null = null;
  private batch: DecisionRecord[] = [];

  constructor(
    private readonly target: string,
    private readonly aliases: ReadonlySet<string>,
  ) {}

  read(record: EventRecord): void {
    const folded = this.fold.apply(record);
    if (this.room !== null && record.room !== this.room) return;
    if (isInputRecord(record)) return this.readInput(record);
    // Chat says nothing about a session's place in line.
    if (isChatRecord(record)) return;
    this.batch.push(record);
    if (this.room === null && !('session' in record.data && this.isOurs(record.data.session))) return;
    this.room ??= record.room;
    this.narrate(record);
    if (folded) this.followPlace(record, folded);
  }

  timeline(): SessionTimeline {
    const { joinedAt, admittedAt, leftSeatAt } = this;
    return {
      session: this.target,
      room: this.room ?? '',
      aliases: [...this.aliases],
      conns: [...this.conns],
      entries: this.entries,
      waitedMs: admittedAt === null || joinedAt === null ? null : admittedAt - joinedAt,
      seatedMs: admittedAt === null || leftSeatAt === null ? null : leftSeatAt - admittedAt,
    };
  }

  private isOurs(session: unknown): boolean {
    return session === this.target || this.aliases.has(session as string);
  }

  private add(record: EventRecord, text: string): void {
    this.entries.push({ seq: record.seq, at: record.at, text });
  }

  private get settings(): Partial<RoomConfig> {
    return this.fold.rooms.get(this.room ?? '')?.settings ?? {};
  }

  private readInput(record: InputRecord): void {
    this.input = record;
    this.batch = [];
    if (record.kind === 'room.opened') {
      if (this.room !== null && this.position > 0) this.add(record, 'the room was restarted (a new server run): the place was lost');
      this.position = 0;
    } else if (record.kind === 'connected') {
      const returning = record.data.resume === this.target;
      if (!this.isOurs(record.data.session) && !returning) return;
      this.room = record.room;
      this.conns.add(record.conn);
      if (returning) this.add(record, `connected on conn ${record.conn} with the resume token of its place`);
      else this.add(record, `connected on conn ${record.conn}${record.data.session === this.target ? '' : ` as fresh session ${record.data.session} (to resume)`}`);
    } else if (record.conn !== null && this.conns.has(record.conn)) {
      this.narrateInput(record);
    }
  }

  private narrateInput(record: InputRecord): void {
    switch (record.kind) {
      case 'message':
        this.lastMessage = record;
        if (record.data.type === 'leave') this.add(record, `conn ${record.conn} sent leave`);
        else if (record.data.type === 'resume') this.add(record, `conn ${record.conn} sent resume${record.data.session === null ? ' with a token that is unknown or expired' : ''}`);
        else if (record.data.type === 'invalid') this.add(record, `conn ${record.conn} sent a refused message (${record.data.code})`);
        return;
      case 'fault':
        this.add(record, `the server closed conn ${record.conn} with ${closeReasons[record.data.reason].code} (${closeReasons[record.data.reason].meaning})`);
        return;
      case 'closed':
        this.add(record, `conn ${record.conn} closed with ${record.data.code} (${closeReasonForCode(record.data.code, 'client')?.meaning ?? closeReasonForCode(record.data.code)?.meaning ?? 'unknown code'})`);
        return;
      case 'overflow':
        this.add(record, `conn ${record.conn} fell too far behind on what it was sent and was dropped`);
        return;
      default:
        return;
    }
  }

  /** After a decision of someone else's: if the session's place moved up, say who left ahead of it. */
  private followPlace(record: DecisionRecord, room: FoldedRoom): void {
    const ticket = room.state.ticketBySession.get(this.target);
    const now = ticket === undefined ? 0 : room.state.queue.rank(ticket);
    if (now > 0 && this.position > 0 && now < this.position && !this.isOurs('session' in record.data ? record.data.session : null)) {
      this.add(record, `position ${now} of ${room.state.queue.size}: ${describeLeaver(record)} ahead`);
    }
    this.position = now;
  }

  private narrate(record: DecisionRecord): void {
    switch (record.kind) {
      case 'queued':
        // A fresh place of an alias is about to be swapped for the held one: not part of the story.
        if (record.data.session !== this.target) return;
        this.joinedAt ??= record.at;
        return this.add(record, `joined the line at position ${record.data.position} of ${record.data.queueLength}`);
      case 'admitted':
        if (!this.isOurs(record.data.session)) return;
        this.joinedAt ??= record.at;
        this.admittedAt ??= record.at;
        return this.add(record, `admitted on conn ${record.conn}: ${this.whyAdmitted(record)}`);
      case 'rejected':
        if (!this.isOurs(record.data.session)) return;
        return this.add(record, `turned away: ${record.data.reason === 'queue_full' ? `the line was full (maxQueue ${this.settings.maxQueue})` : 'the room is closed'}`);
      case 'held':
        if (!this.isOurs(record.data.session)) return;
        return this.add(record, `place ${record.data.position} held for ${record.data.expiresAt - record.at} ms, for a reconnect to resume (${this.dropCause()})`);
      case 'resumed':
        return this.narrateResume(record);
      case 'resumeRefused':
        if (this.conns.has(record.conn)) this.add(record, `resume refused on conn ${record.conn}: no place is held for that session`);
        return;
      case 'released':
      case 'evicted':
        return this.narrateEnding(record);
      default:
        return;
    }
  }

  private narrateResume(record: Extract<DecisionRecord, { kind: 'resumed' }>): void {
    const d = record.data;
    if (d.replacedSession === this.target) return this.add(record, `its fresh place was given up: conn ${record.conn} resumed session ${d.session}`);
    if (d.session !== this.target) return;
    this.conns.add(record.conn);
    this.add(record, `resumed on conn ${record.conn} at position ${d.position} of ${d.queueLength}` + (d.replacedConn ? `; the older conn ${d.replacedConn} is closed as replaced` : ''));
  }

  private narrateEnding(record: Ending): void {
    const d = record.data;
    if (!this.isOurs(d.session) || (record.kind === 'released' && this.aliases.has(d.session))) return;
    if (d.from === 'seat') this.leftSeatAt ??= record.at;
    const from = d.from === 'seat' ? 'seat' : 'line';
    if (record.kind === 'released') this.add(record, `released from the ${from}: ${this.whyReleased(record)}`);
    else this.add(record, `evicted from the ${from}: ${d.reason}, ${this.whyEvicted(record)}`);
  }

  private whyAdmitted(record: DecisionRecord): string {
    const input = this.input;
    if (input?.kind === 'connected' && input.conn === record.conn) return 'a seat was free when it arrived';
    const freed = this.batch.find((r): r is Ending => (r.kind === 'released' || r.kind === 'evicted') && r.data.from === 'seat');
    if (freed) return `its seat was freed when session ${freed.data.session} ${freed.kind === 'evicted' ? `was evicted (${freed.data.reason})` : `was released (${freed.data.reason})`}`;
    if (input?.kind === 'config' && input.data.type === 'setCapacity') return `capacity was raised to ${input.data.capacity}`;
    if (input?.kind === 'config' && input.data.type === 'open') return 'the room was reopened';
    return `it reached the head of the line (after ${input ? `${input.kind} seq ${input.seq}` : 'the start'})`;
  }

  private dropCause(): string {
    if (this.input?.kind === 'closed') return `the connection closed with ${this.input.data.code}`;
    if (this.input?.kind === 'overflow') return 'the connection fell too far behind';
    if (this.input?.kind === 'fault') return `the server closed the connection with ${closeReasons[this.input.data.reason].code}`;
    return 'the connection was lost';
  }

  private whyReleased(record: Extract<DecisionRecord, { kind: 'released' }>): string {
    const input = this.input;
    switch (record.data.reason) {
      case 'left':
        if (input?.kind === 'message') return 'it sent leave';
        if (input?.kind === 'fault') return `the server closed it: ${closeReasons[input.data.reason].meaning}`;
        return `it closed the connection (${input?.kind === 'closed' ? input.data.code : '?'})`;
      case 'dropped':
        return `${this.dropCause()}; a seat is never held`;
      case 'hold_expired':
        return `no one resumed the held place within ${this.settings.resumeWindowMs ?? '?'} ms`;
      case 'superseded':
        return 'the session already had a seat on a newer connection';
      default:
        return endedFromOutside[record.data.reason] ?? record.data.reason;
    }
  }

  private whyEvicted(record: Extract<DecisionRecord, { kind: 'evicted' }>): string {
    const { settings, lastMessage } = this;
    switch (record.data.reason) {
      case 'heartbeat_timeout':
        if (record.data.from === 'queue') return `it answered no ping frame for two probes of ${settings.queuePingMs ?? '?'} ms`;
        return (
          `no message for ${settings.heartbeatTimeoutMs ?? '?'} ms` +
          (lastMessage ? ` (the last, seq ${lastMessage.seq}, came ${seconds(record.at - lastMessage.at)} before)` : ' (none since it connected)')
        );
      case 'session_expired':
        return `its seat reached the session TTL of ${settings.sessionTtlMs ?? '?'} ms`;
      case 'replaced':
        return 'a newer connection resumed the same session';
      case 'kicked':
        return `an operator kicked it (close ${closeReasons.kicked.code})`;
      default:
        return endedFromOutside[record.data.reason] ?? 'no reason recorded';
    }
  }
}

function describeLeaver(record: DecisionRecord): string {
  if (record.kind === 'admitted') return `session ${record.data.session} was admitted`;
  if (record.kind === 'resumed') return `the fresh place of session ${record.data.replacedSession} was given up for a resume`;
  if (record.kind === 'evicted') return `session ${record.data.session} was evicted (${record.data.reason})`;
  if (record.kind === 'released') return `session ${record.data.session} left the line (${record.data.reason})`;
  return record.kind;
}

function resolveSession(records: readonly EventRecord[], session: string): string | { error: string } {
  const sessions = new Set<string>();
  for (const record of records) if (record.kind === 'connected') sessions.add(record.data.session);
  if (sessions.has(session)) return session;
  const matches = [...sessions].filter((s) => s.startsWith(session));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) return { error: `session "${session}" is ambiguous: ${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}` };
  return { error: `no session "${session}" in the log` };
}

/** The timeline as text: the first line names the session and its start, each entry is `+s.mmm seq text`. */
export function formatSessionTimeline(timeline: SessionTimeline): string {
  const start = timeline.entries[0]?.at ?? 0;
  const lines = [
    `session ${timeline.session} in room "${timeline.room}", first seen ${new Date(start).toISOString()}` +
      (timeline.aliases.length > 0 ? ` (resumed from fresh sessions ${timeline.aliases.join(', ')})` : ''),
  ];
  const seqWidth = Math.max(...timeline.entries.map((e) => String(e.seq).length));
  for (const entry of timeline.entries) {
    lines.push(`  ${formatOffset(entry.at - start).padStart(10)}  seq ${String(entry.seq).padStart(seqWidth)}  ${entry.text}`);
  }
  const summary: string[] = [];
  summary.push(timeline.waitedMs === null ? 'never admitted' : `waited ${seconds(timeline.waitedMs)} in line`);
  if (timeline.seatedMs !== null) summary.push(`held a seat for ${seconds(timeline.seatedMs)}`);
  else if (timeline.waitedMs !== null) summary.push('still seated at the end of the log');
  lines.push(`  ${summary.join(', ')}`);
  return lines.join('\n') + '\n';
}

function formatOffset(ms: number): string {
  return `+${(ms / 1000).toFixed(3)}s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
