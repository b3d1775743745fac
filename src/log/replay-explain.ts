import { closeCodeMeaning } from '../protocol/codes.js';
import type { RoomConfig } from '../config/server-config.js';
import { isInputRecord, type EventRecord } from './event-record.js';

/** One line of a session's story. */
export interface TimelineEntry {
  seq: number;
  at: number;
  text: string;
}

export interface SessionTimeline {
  session: string;
  room: string;
  /** Sessions of fresh places that were given up for this one by a `resume`. */
  aliases: string[];
  conns: string[];
  entries: TimelineEntry[];
  /** Time from joining to the first admission; null when never admitted. */
  waitedMs: number | null;
  /** Time from the first admission to leaving the seat; null when never admitted or still seated at the end. */
  seatedMs: number | null;
}

type Data = Record<string, any>;

interface RoomLine {
  /** Enqueue order of each place in line, by session: places never overtake each other. */
  order: Map<string, number>;
  enqueued: number;
  length: number;
}

/**
 * The story of one session, told from the event log alone: when it connected and joined the line, each
 * position it moved to and why (who ahead of it left), why it was admitted (what freed the seat) and how it
 * ended. `session` may be a unique prefix of the session id.
 *
 * Positions are not recorded per change, so they are derived: the line is strict FIFO, so a place moves up
 * by one each time a place that joined before it leaves the line, and never moves back.
 */
export function explainSession(records: readonly EventRecord[], session: string): SessionTimeline | { error: string } {
  const target = resolveSession(records, session);
  if (typeof target !== 'string') return target;
  const aliases = new Set<string>();
  for (const record of records) {
    if (record.kind === 'resumed' && record.data.session === target) aliases.add(String(record.data.replacedSession));
  }
  const isOurs = (s: unknown) => s === target || aliases.has(s as string);

  const entries: TimelineEntry[] = [];
  const conns = new Set<string>();
  let room: string | null = null;
  const settingsByRoom = new Map<string, Partial<RoomConfig>>();
  const settings = (): Partial<RoomConfig> => settingsByRoom.get(room ?? '') ?? {};
  // Each room's line: the enqueue order of every place in it; and the session's own place.
  const lines = new Map<string, RoomLine>();
  let ourPlace: number | null = null;
  let position = 0;
  let joinedAt: number | null = null;
  let admittedAt: number | null = null;
  let leftSeatAt: number | null = null;
  let lastMessage: EventRecord | null = null;
  // The input being applied and the decisions it has produced so far.
  let input: EventRecord | null = null;
  let batch: EventRecord[] = [];

  const add = (record: EventRecord, text: string) => entries.push({ seq: record.seq, at: record.at, text });

  for (const record of records) {
    if (room !== null && record.room !== room) continue;
    const d = record.data as Data;
    let line = lines.get(record.room);
    if (line === undefined) lines.set(record.room, (line = { order: new Map(), enqueued: 0, length: 0 }));
    if (isInputRecord(record)) {
      input = record;
      batch = [];
      if (record.kind === 'room.opened') {
        if (room !== null && (ourPlace !== null || conns.size > 0) && admittedAt === null) {
          add(record, 'the room was restarted (a new server run): the place was lost');
        }
        settingsByRoom.set(record.room, (d.settings ?? {}) as Partial<RoomConfig>);
        lines.set(record.room, { order: new Map(), enqueued: 0, length: 0 });
        ourPlace = null;
        continue;
      }
      if (record.kind === 'connected' && isOurs(d.session)) {
        room = record.room;
        conns.add(record.conn!);
        add(record, `connected on conn ${record.conn}${d.session === target ? '' : ` as fresh session ${d.session} (to resume)`}`);
      } else if (record.conn !== null && conns.has(record.conn)) {
        if (record.kind === 'message') {
          lastMessage = record;
          if (d.type === 'leave') add(record, `conn ${record.conn} sent leave`);
          else if (d.type === 'resume') add(record, `conn ${record.conn} sent resume${d.session === null ? ' with a token that is unknown or expired' : ''}`);
          else if (d.type === 'invalid') add(record, `conn ${record.conn} sent a refused message (${d.code})`);
        } else if (record.kind === 'closed') {
          add(record, `conn ${record.conn} closed with ${d.code} (${closeCodeMeaning[d.code as number] ?? 'unknown code'})`);
        } else if (record.kind === 'overflow') {
          add(record, `conn ${record.conn} fell too far behind on what it was sent and was dropped`);
        }
      }
      continue;
    }
    batch.push(record);
    if (room !== null || isOurs(d.session)) {
      room ??= record.room;
      explainDecision(record, d);
    }
    trackLine(line, record, d);
  }

  return {
    session: target,
    room: room ?? '',
    aliases: [...aliases],
    conns: [...conns],
    entries,
    waitedMs: admittedAt === null || joinedAt === null ? null : admittedAt - joinedAt,
    seatedMs: admittedAt === null || leftSeatAt === null ? null : leftSeatAt - admittedAt,
  };

  /** Keeps the line's order and the session's position, narrating moves of the session's own place. */
  function trackLine(line: RoomLine, record: EventRecord, d: Data): void {
    if (record.kind === 'queued') {
      line.order.set(d.session, ++line.enqueued);
      line.length = d.queueLength as number;
      if (d.session === target && record.room === room) ourPlace = line.enqueued;
      return;
    }
    const leaving = placeLeaving(record, d);
    const place = leaving === null ? undefined : line.order.get(leaving);
    if (place === undefined) return;
    line.order.delete(leaving!);
    line.length -= 1;
    if (ourPlace === null || record.room !== room) return;
    if (place === ourPlace) ourPlace = null;
    else if (place < ourPlace) {
      position -= 1;
      add(record, `position ${position} of ${line.length}: ${describeLeaver(record, d)} ahead`);
    }
  }

  function explainDecision(record: EventRecord, d: Data): void {
    switch (record.kind) {
      case 'queued':
        if (!isOurs(d.session)) return;
        if (d.session !== target) return; // a fresh place about to be swapped for the held one
        joinedAt ??= record.at;
        position = d.position as number;
        add(record, `joined the line at position ${d.position} of ${d.queueLength}`);
        return;
      case 'admitted':
        if (!isOurs(d.session)) return;
        joinedAt ??= record.at;
        admittedAt ??= record.at;
        add(record, `admitted on conn ${record.conn}: ${whyAdmitted(record)}`);
        return;
      case 'rejected':
        if (!isOurs(d.session)) return;
        add(record, `turned away: ${d.reason === 'queue_full' ? `the line was full (maxQueue ${settings().maxQueue})` : 'the room is closed'}`);
        return;
      case 'held':
        if (!isOurs(d.session)) return;
        position = d.position as number;
        add(record, `place ${d.position} held for ${settings().resumeWindowMs ?? '?'} ms, for a reconnect to resume (${dropCause()})`);
        return;
      case 'resumed':
        if (d.replacedSession === target) {
          add(record, `its fresh place was given up: conn ${record.conn} resumed session ${d.session}`);
          return;
        }
        if (d.session !== target) return;
        position = d.position as number;
        conns.add(record.conn!);
        add(
          record,
          `resumed on conn ${record.conn} at position ${d.position} of ${d.queueLength}` +
            (d.replacedConn ? `; the older conn ${d.replacedConn} is closed as replaced` : ''),
        );
        return;
      case 'resumeRefused':
        if (record.conn !== null && conns.has(record.conn)) add(record, `resume refused on conn ${record.conn}: no place is held for that session`);
        return;
      case 'released':
        if (!isOurs(d.session) || aliases.has(d.session)) return;
        if (d.from === 'seat') leftSeatAt ??= record.at;
        add(record, `released from the ${d.from === 'seat' ? 'seat' : 'line'}: ${whyReleased(d)}`);
        return;
      case 'evicted':
        if (!isOurs(d.session)) return;
        if (d.from === 'seat') leftSeatAt ??= record.at;
        add(record, `evicted from the ${d.from === 'seat' ? 'seat' : 'line'}: ${d.reason}, ${whyEvicted(d, record.at)}`);
        return;
      default:
        return;
    }
  }

  function whyAdmitted(record: EventRecord): string {
    if (input?.kind === 'connected' && input.conn === record.conn) return 'a seat was free when it arrived';
    const freed = batch.find((r) => (r.kind === 'released' || r.kind === 'evicted') && r.data.from === 'seat');
    if (freed) return `its seat was freed when session ${freed.data.session} ${freed.kind === 'evicted' ? `was evicted (${freed.data.reason})` : `was released (${freed.data.reason})`}`;
    if (input?.kind === 'config' && input.data.type === 'setCapacity') return `capacity was raised to ${input.data.capacity}`;
    if (input?.kind === 'config' && input.data.type === 'open') return 'the room was reopened';
    return `it reached the head of the line (after ${input ? `${input.kind} seq ${input.seq}` : 'the start'})`;
  }

  function dropCause(): string {
    if (input?.kind === 'closed') return `the connection closed with ${input.data.code}`;
    if (input?.kind === 'overflow') return 'the connection fell too far behind';
    return 'the connection was lost';
  }

  function whyReleased(d: Data): string {
    switch (d.reason) {
      case 'left':
        return input?.kind === 'message' ? 'it sent leave' : `it closed the connection (${input?.data.code ?? '?'})`;
      case 'dropped':
        return `${dropCause()}; a seat is never held`;
      case 'hold_expired':
        return `no one resumed the held place within ${settings().resumeWindowMs ?? '?'} ms`;
      case 'superseded':
        return 'the session already had a seat on a newer connection';
      default:
        return endedFromOutside[String(d.reason)] ?? String(d.reason);
    }
  }

  function whyEvicted(d: Data, at: number): string {
    switch (d.reason) {
      case 'heartbeat_timeout':
        if (d.from === 'queue') return `it answered no ping frame for two probes of ${settings().queuePingMs ?? '?'} ms`;
        return (
          `no message for ${settings().heartbeatTimeoutMs ?? '?'} ms` +
          (lastMessage ? ` (the last, seq ${lastMessage.seq}, came ${seconds(at - lastMessage.at)} before)` : ' (none since it connected)')
        );
      case 'session_expired':
        return `its seat reached the session TTL of ${settings().sessionTtlMs ?? '?'} ms`;
      case 'replaced':
        return 'a newer connection resumed the same session';
      default:
        return endedFromOutside[String(d.reason)] ?? 'no reason recorded';
    }
  }
}

/** Reasons a seat or place ends that come from outside the session, worded the same for releases and evictions. */
const endedFromOutside: Readonly<Record<string, string>> = {
  kicked: 'an operator kicked it',
  room_closed: 'the room was closed',
  shutdown: 'the server shut down',
};

/** The session whose place leaves the line with this decision, or null. */
function placeLeaving(record: EventRecord, d: Data): string | null {
  switch (record.kind) {
    case 'admitted':
    case 'released':
    case 'evicted':
      return record.kind === 'admitted' || d.from === 'queue' ? (d.session as string) : null;
    case 'resumed':
      return d.replacedSession as string;
    default:
      return null;
  }
}

function describeLeaver(record: EventRecord, d: Data): string {
  if (record.kind === 'admitted') return `session ${d.session} was admitted`;
  if (record.kind === 'resumed') return `the fresh place of session ${d.replacedSession} was given up for a resume`;
  return `session ${d.session} ${record.kind === 'evicted' ? `was evicted (${d.reason})` : `left the line (${d.reason})`}`;
}

function resolveSession(records: readonly EventRecord[], session: string): string | { error: string } {
  const sessions = new Set<string>();
  for (const record of records) {
    if (record.kind === 'connected' && typeof record.data.session === 'string') sessions.add(record.data.session);
  }
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
