import { createAdmissionState, type AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand } from '../../machines/admission/admission-types.js';
import { executeAdmission } from '../../machines/admission/execute-admission.js';
import type { RoomConfig } from '../config/server-config.js';
import { isInputRecord, type EventRecord } from './event-record.js';

/** Wait times of the people a room admitted: from joining the line to their first admission. */
export interface WaitSummary {
  admitted: number;
  /** People who joined but were never admitted (left, dropped, or still waiting at the end). */
  notAdmitted: number;
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

export interface WhatIfReport {
  room: string;
  /** The capacity the room opened with. */
  recordedCapacity: number;
  capacity: number;
  recorded: WaitSummary;
  whatIf: WaitSummary;
  /** What-if admissions later than the last record: people still waiting when the log ends, seated later. */
  admittedAfterEnd: number;
  /** Operator capacity changes in the record, which the what-if ignores (it holds `capacity` throughout). */
  ignoredCapacityChanges: number;
}

type Data = Record<string, any>;

/** A command of the what-if run, at a time; `order` breaks ties between equal times the way the record did. */
interface Step {
  at: number;
  order: number;
  command: AdmissionCommand;
}

/**
 * What the waits would have been under another capacity. Replaying the recorded inputs cannot answer it:
 * with other seats the decisions differ, and the recorded timers no longer line up. So the room is modelled
 * from the record's behaviour of people instead, on the same admission rules (`executeAdmission`), on the
 * record's `at` times, as a discrete-event run:
 * - everyone arrives when they connected;
 * - waiters leave, drop (their place held), resume, are dropped for silence or kicked when they did in the
 *   record, and held places expire when they did;
 * - an admitted session keeps its seat as long as it did in the record (admission to release or eviction),
 *   counted from its what-if admission; one never admitted in the record leaves when it left the line, and
 *   one still seated or waiting at the end of the log stays;
 * - pause, open, close and maxQueue changes happen when they did; capacity changes are ignored.
 * A resume joins the fresh session to the person whose place it reclaims, so each person counts once.
 */
export function whatIfCapacity(records: readonly EventRecord[], capacity: number, room?: string): WhatIfReport[] {
  const reports: WhatIfReport[] = [];
  for (const segment of roomSegments(records)) {
    if (room !== undefined && segment.room !== room) continue;
    reports.push(simulateSegment(segment, capacity));
  }
  return reports;
}

interface Segment {
  room: string;
  settings: RoomConfig;
  records: EventRecord[];
}

/** Each run of each room: from its `room.opened` to the next one (a server restart starts over). */
function roomSegments(records: readonly EventRecord[]): Segment[] {
  const open = new Map<string, Segment>();
  const segments: Segment[] = [];
  for (const record of records) {
    if (record.kind === 'room.opened') {
      const segment = { room: record.room, settings: record.data.settings as RoomConfig, records: [] as EventRecord[] };
      open.set(record.room, segment);
      segments.push(segment);
    }
    open.get(record.room)?.records.push(record);
  }
  return segments;
}

function simulateSegment(segment: Segment, capacity: number): WhatIfReport {
  const { records } = segment;
  // Who is who: a fresh session that resumed another is that person.
  const personOf = new Map<string, string>();
  for (const record of records) {
    if (record.kind === 'resumed') personOf.set(String(record.data.replacedSession), String(record.data.session));
  }
  const person = (session: string) => personOf.get(session) ?? session;

  // The record's own story: arrivals, first admissions, and how long each admitted connection kept its seat.
  const arrivedAt = new Map<string, number>();
  const recordedAdmission = new Map<string, number>();
  const seatTakenAt = new Map<string, number>();
  const seatKept = new Map<string, { ms: number; order: number }>();
  let ignoredCapacityChanges = 0;
  const steps: Step[] = [];
  for (const record of records) {
    const d = record.data as Data;
    const step = (command: AdmissionCommand) => steps.push({ at: record.at, order: record.seq, command });
    if (isInputRecord(record)) {
      if (record.kind === 'connected') {
        if (!arrivedAt.has(person(d.session))) arrivedAt.set(person(d.session), record.at);
        step({ type: 'join', conn: record.conn!, session: d.session });
      } else if (record.kind === 'message' && d.type === 'resume' && typeof d.session === 'string') {
        step({ type: 'resume', conn: record.conn!, session: d.session });
      } else if (record.kind === 'config') {
        if (d.type === 'setCapacity') ignoredCapacityChanges++;
        else if (d.type === 'pause' || d.type === 'open' || d.type === 'close' || d.type === 'setMaxQueue') step(d as AdmissionCommand);
      }
      continue;
    }
    switch (record.kind) {
      case 'admitted':
        if (!recordedAdmission.has(person(d.session))) recordedAdmission.set(person(d.session), record.at);
        seatTakenAt.set(record.conn!, record.at);
        break;
      case 'held':
        step({ type: 'drop', conn: record.conn! });
        break;
      case 'released':
      case 'evicted':
        if (d.from === 'seat') {
          // Ends that the what-if reproduces by itself (a close) are not a duration the person chose.
          const taken = seatTakenAt.get(record.conn!);
          if (taken !== undefined && d.reason !== 'room_closed' && d.reason !== 'shutdown') {
            seatKept.set(record.conn!, { ms: record.at - taken, order: record.seq });
          }
        } else {
          const command = waiterLeaving(record, d);
          if (command) step(command);
        }
        break;
    }
  }

  // The what-if run: recorded steps in order, with seat releases scheduled as seats are given.
  const state: AdmissionState = createAdmissionState({ capacity, maxQueue: segment.settings.maxQueue });
  const admittedAt = new Map<string, number>();
  const releases = new StepHeap();
  const run = (step: Step) => {
    for (const decision of executeAdmission(state, step.command)) {
      if (decision.type !== 'admitted') continue;
      const who = person(decision.session);
      if (!admittedAt.has(who)) admittedAt.set(who, step.at);
      const kept = seatKept.get(decision.conn);
      if (kept) releases.push({ at: step.at + kept.ms, order: kept.order, command: { type: 'leave', conn: decision.conn } });
    }
  };
  for (const step of steps) {
    while (releases.peek() && before(releases.peek()!, step)) run(releases.pop()!);
    run(step);
  }
  // Past the end of the log no one arrives or leaves the line: the seats that free up still go to those waiting.
  const endsAt = records.at(-1)?.at ?? 0;
  while (releases.peek()) run(releases.pop()!);
  const admittedAfterEnd = [...admittedAt.values()].filter((at) => at > endsAt).length;

  return {
    room: segment.room,
    recordedCapacity: segment.settings.capacity,
    capacity,
    recorded: summarizeWaits(arrivedAt, recordedAdmission),
    whatIf: summarizeWaits(arrivedAt, admittedAt),
    admittedAfterEnd,
    ignoredCapacityChanges,
  };
}

/** The command that repeats a waiter's recorded exit from the line, or null for exits another step causes. */
function waiterLeaving(record: EventRecord, d: Data): AdmissionCommand | null {
  if (record.kind === 'released') {
    if (d.reason === 'left' && record.conn !== null) return { type: 'leave', conn: record.conn };
    if (d.reason === 'hold_expired') return { type: 'expireHold', session: d.session };
    if (d.reason === 'kicked') return { type: 'kick', session: d.session };
    return null; // superseded, room_closed, shutdown: the resume or close step decides these again
  }
  if (d.reason === 'heartbeat_timeout' || d.reason === 'kicked') return { type: 'evict', conn: record.conn!, reason: d.reason };
  return null; // replaced, room_closed, shutdown
}

function before(a: Step, b: Step): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

/** A binary min-heap of steps by (at, order). */
class StepHeap {
  private readonly items: Step[] = [];

  push(step: Step): void {
    const items = this.items;
    items.push(step);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  peek(): Step | undefined {
    return this.items[0];
  }

  pop(): Step | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && before(items[left]!, items[smallest]!)) smallest = left;
        if (right < items.length && before(items[right]!, items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function summarizeWaits(arrivedAt: ReadonlyMap<string, number>, admittedAt: ReadonlyMap<string, number>): WaitSummary {
  const waits: number[] = [];
  for (const [who, arrived] of arrivedAt) {
    const admitted = admittedAt.get(who);
    if (admitted !== undefined) waits.push(admitted - arrived);
  }
  waits.sort((a, b) => a - b);
  return {
    admitted: waits.length,
    notAdmitted: arrivedAt.size - waits.length,
    p50Ms: percentile(waits, 0.5),
    p90Ms: percentile(waits, 0.9),
    maxMs: waits.at(-1) ?? null,
  };
}

/** Nearest-rank percentile of sorted values; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The what-if as a table: recorded beside what-if, per room. */
export function formatWhatIf(reports: readonly WhatIfReport[]): string {
  if (reports.length === 0) return 'no room in the log\n';
  const lines: string[] = [];
  for (const report of reports) {
    const recordedLabel = `recorded (capacity ${report.recordedCapacity})`;
    const whatIfLabel = `what-if (capacity ${report.capacity})`;
    const rows: [string, string, string][] = [
      ['admitted', String(report.recorded.admitted), String(report.whatIf.admitted)],
      ['not admitted', String(report.recorded.notAdmitted), String(report.whatIf.notAdmitted)],
      ['wait p50', seconds(report.recorded.p50Ms), seconds(report.whatIf.p50Ms)],
      ['wait p90', seconds(report.recorded.p90Ms), seconds(report.whatIf.p90Ms)],
      ['wait max', seconds(report.recorded.maxMs), seconds(report.whatIf.maxMs)],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(recordedLabel.length, ...rows.map((r) => r[1].length));
    lines.push(`room "${report.room}"`);
    lines.push(`  ${''.padEnd(w0)}  ${recordedLabel.padStart(w1)}  ${whatIfLabel}`);
    for (const [name, recorded, whatIf] of rows) lines.push(`  ${name.padEnd(w0)}  ${recorded.padStart(w1)}  ${whatIf.padStart(whatIfLabel.length)}`);
    if (report.admittedAfterEnd > 0) {
      lines.push(`  (${report.admittedAfterEnd} of the what-if admissions come after the log ends, as seats free up)`);
    }
    if (report.ignoredCapacityChanges > 0) {
      lines.push(`  (the record changed capacity ${report.ignoredCapacityChanges} time(s); the what-if keeps ${report.capacity} throughout)`);
    }
  }
  return lines.join('\n') + '\n';
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`;
}
