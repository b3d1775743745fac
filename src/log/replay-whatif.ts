import { createAdmissionState, type AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision } from '../../machines/admission/admission-types.js';
import { settle } from '../../machines/admission/step.js';
import type { RoomConfig } from '../config/server-config.js';
import { isChatRecord, isInputRecord, type DecisionRecord, type EventRecord } from './event-record.js';

/**
 * Wait times of everyone who was placed: from arrival to first admission, or, for those never admitted, to
 * when they left the line; waits still open when the log ends count as long as they had lasted (at least).
 */
export interface WaitSummary {
  /** People placed (admitted at once or queued); people turned away are not counted. */
  people: number;
  admitted: number;
  /** Placed, never admitted, and gone from the line before the log ends (left, dropped, kicked, closed). */
  leftWaiting: number;
  /** Still in line when the log ends: their waits are lower bounds. */
  stillWaiting: number;
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

/** One room's what-if: its recorded waits beside the waits under `capacity` (times in ms). */
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

/** A command of the what-if run, at a time; `order` breaks ties between equal times the way the record did. */
interface Step {
  at: number;
  order: number;
  command: AdmissionCommand;
}

/**
 * What the waits would have been under another capacity. Replaying the recorded inputs cannot answer it:
 * with other seats the decisions differ, and the recorded timers no longer line up. So the room is modelled
 * from the record's behaviour of people instead, on the same admission rules (`settle`: decide, then
 * evolve), on the record's `at` times, as a discrete-event run:
 * - everyone arrives when they connected;
 * - waiters leave, drop (their place held), resume, are dropped for silence or kicked when they did in the
 *   record; held places and seat TTLs expire when the run's own decisions say they are due;
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

/** What the record says happened to each person in one room run, and the steps that repeat their behaviour. */
interface Recorded {
  personOf: (session: string) => string;
  /** What happened to each person in the record: arrival, first admission, leaving the line unadmitted. */
  waits: WaitTracker;
  /** How long each recorded seat was kept (admission to its end), by connection. */
  seatKept: Map<string, { ms: number; order: number }>;
  steps: Step[];
  ignoredCapacityChanges: number;
}

function simulateSegment(segment: Segment, capacity: number): WhatIfReport {
  const recorded = readRecord(segment.records);
  const endsAt = segment.records.at(-1)?.at ?? 0;
  const whatIf = runWhatIf(segment.settings, capacity, recorded);
  return {
    room: segment.room,
    recordedCapacity: segment.settings.capacity,
    capacity,
    recorded: recorded.waits.summary(endsAt),
    whatIf: whatIf.summary(endsAt),
    admittedAfterEnd: whatIf.admittedAfter(endsAt),
    ignoredCapacityChanges: recorded.ignoredCapacityChanges,
  };
}

function readRecord(records: readonly EventRecord[]): Recorded {
  // Who is who: a fresh session that resumed another is that person.
  const personMap = new Map<string, string>();
  for (const record of records) if (record.kind === 'resumed' && record.data.replacedSession !== null) personMap.set(record.data.replacedSession, record.data.session);
  // A person may come back more than once: follow the chain of resumes to the place they first had.
  const personOf = (session: string) => {
    let person = session;
    for (let hops = 0; personMap.has(person) && hops <= personMap.size; hops++) person = personMap.get(person)!;
    return person;
  };
  const recorded: Recorded = { personOf, waits: new WaitTracker(personOf), seatKept: new Map(), steps: [], ignoredCapacityChanges: 0 };
  const seatTakenAt = new Map<string, number>();
  for (const record of records) {
    const step = (command: AdmissionCommand) => recorded.steps.push({ at: record.at, order: record.seq, command });
    if (isChatRecord(record)) continue;
    if (!isInputRecord(record)) {
      recorded.waits.absorb(record.at, record);
      readDecision(record, step, seatTakenAt, recorded.seatKept);
    } else if (record.kind === 'connected') {
      const { resume, priority } = record.data;
      step({
        type: 'join',
        conn: record.conn,
        session: record.data.session,
        ...(typeof resume === 'string' ? { resume } : {}),
        ...(priority === undefined ? {} : { priority }),
      });
    } else if (record.kind === 'message' && record.data.type === 'resume' && record.data.session !== null) {
      step({ type: 'resume', conn: record.conn, session: record.data.session });
    } else if (record.kind === 'config') {
      if (record.data.type === 'setCapacity') recorded.ignoredCapacityChanges++;
      else if (record.data.type !== 'kick') step(record.data);
    }
  }
  return recorded;
}

/** The behaviour a decision shows of a person: a drop, an exit from the line, how long a seat was kept. */
function readDecision(record: DecisionRecord, step: (command: AdmissionCommand) => void, seatTakenAt: Map<string, number>, seatKept: Recorded['seatKept']): void {
  switch (record.kind) {
    case 'admitted':
      seatTakenAt.set(record.conn, record.at);
      return;
    case 'held':
      return step({ type: 'drop', conn: record.conn });
    case 'released':
    case 'evicted': {
      if (record.data.from === 'queue') {
        const command = waiterLeaving(record);
        if (command) step(command);
        return;
      }
      // Ends that the what-if reproduces by itself (a close, a TTL) are not a duration the person chose.
      const taken = record.conn === null ? undefined : seatTakenAt.get(record.conn);
      if (taken !== undefined && !['room_closed', 'shutdown', 'session_expired'].includes(record.data.reason)) {
        seatKept.set(record.conn!, { ms: record.at - taken, order: record.seq });
      }
      return;
    }
    default:
      return;
  }
}

/**
 * The what-if run: the recorded steps in order on the same rules (`settle`), with each admitted seat kept as
 * long as it was in the record, and the timers the run's own decisions set (holds, seat TTLs) due when they say.
 */
function runWhatIf(settings: RoomConfig, capacity: number, recorded: Recorded): WaitTracker {
  const state: AdmissionState = createAdmissionState({ ...settings, capacity });
  const waits = new WaitTracker(recorded.personOf);
  const later = new StepHeap();
  const run = (step: Step) => {
    for (const decision of settle(state, step.command, step.at)) {
      waits.absorb(step.at, decision);
      const next = followUp(decision, step, recorded.seatKept);
      if (next) later.push(next);
    }
  };
  for (const step of recorded.steps) {
    while (later.peek() && before(later.peek()!, step)) run(later.pop()!);
    run(step);
  }
  // Past the end of the log no one arrives or leaves the line: the seats that free up still go to those waiting.
  while (later.peek()) run(later.pop()!);
  return waits;
}

/** The step a decision of the what-if sets up for later: the seat's recorded end, a hold or TTL expiry. */
function followUp(decision: AdmissionDecision, step: Step, seatKept: Recorded['seatKept']): Step | null {
  if (decision.type === 'held') return { at: decision.expiresAt, order: step.order, command: { type: 'expireHold', session: decision.session, expiresAt: decision.expiresAt } };
  if (decision.type !== 'admitted') return null;
  const kept = seatKept.get(decision.conn);
  if (kept) return { at: step.at + kept.ms, order: kept.order, command: { type: 'leave', conn: decision.conn } };
  if (decision.ttlUntil !== null) return { at: decision.ttlUntil, order: step.order, command: { type: 'expireSeat', conn: decision.conn, ttlUntil: decision.ttlUntil } };
  return null;
}

/** The command that repeats a waiter's recorded exit from the line, or null for exits another step causes. */
function waiterLeaving(record: Extract<DecisionRecord, { kind: 'released' | 'evicted' }>): AdmissionCommand | null {
  if (record.kind === 'released') {
    if (record.data.reason === 'left' && record.conn !== null) return { type: 'leave', conn: record.conn };
    if (record.data.reason === 'kicked') return { type: 'kick', session: record.data.session };
    return null; // hold_expired (the run's own hold timer), superseded, room_closed, shutdown
  }
  const reason = record.data.reason;
  if (reason === 'heartbeat_timeout' || reason === 'kicked') return { type: 'evict', conn: record.conn, reason };
  return null; // replaced, room_closed, shutdown
}

/** Arrivals, first admissions and exits from the line, per person, from decisions (recorded or what-if). */
class WaitTracker {
  private readonly placedAt = new Map<string, number>();
  private readonly admittedAt = new Map<string, number>();
  private readonly leftAt = new Map<string, number>();

  constructor(private readonly personOf: (session: string) => string) {}

  absorb(at: number, decision: AdmissionDecision | DecisionRecord): void {
    const type = 'type' in decision ? decision.type : decision.kind;
    const data = ('data' in decision ? decision.data : decision) as { session?: string; from?: string };
    if (data.session === undefined) return;
    const who = this.personOf(data.session);
    if (type === 'queued' || type === 'admitted') {
      if (!this.placedAt.has(who)) this.placedAt.set(who, at);
      if (type === 'admitted' && !this.admittedAt.has(who)) this.admittedAt.set(who, at);
    } else if ((type === 'released' || type === 'evicted') && data.from === 'queue' && who === data.session) {
      this.leftAt.set(who, at);
    }
  }

  admittedAfter(endsAt: number): number {
    return [...this.admittedAt.values()].filter((at) => at > endsAt).length;
  }

  summary(endsAt: number): WaitSummary {
    const waits: number[] = [];
    let leftWaiting = 0;
    let stillWaiting = 0;
    for (const [who, placed] of this.placedAt) {
      const admitted = this.admittedAt.get(who);
      const left = this.leftAt.get(who);
      if (admitted !== undefined) waits.push(admitted - placed);
      else if (left !== undefined) (leftWaiting++, waits.push(left - placed));
      else (stillWaiting++, waits.push(endsAt - placed));
    }
    waits.sort((a, b) => a - b);
    return {
      people: this.placedAt.size,
      admitted: this.admittedAt.size,
      leftWaiting,
      stillWaiting,
      p50Ms: percentile(waits, 0.5),
      p90Ms: percentile(waits, 0.9),
      maxMs: waits.at(-1) ?? null,
    };
  }
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
      ['placed', String(report.recorded.people), String(report.whatIf.people)],
      ['admitted', String(report.recorded.admitted), String(report.whatIf.admitted)],
      ['left unadmitted', String(report.recorded.leftWaiting), String(report.whatIf.leftWaiting)],
      ['still waiting', String(report.recorded.stillWaiting), String(report.whatIf.stillWaiting)],
      ['wait p50', seconds(report.recorded.p50Ms), seconds(report.whatIf.p50Ms)],
      ['wait p90', seconds(report.recorded.p90Ms), seconds(report.whatIf.p90Ms)],
      ['wait max', seconds(report.recorded.maxMs), seconds(report.whatIf.maxMs)],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(recordedLabel.length, ...rows.map((r) => r[1].length));
    lines.push(`room "${report.room}"`);
    lines.push(`  ${''.padEnd(w0)}  ${recordedLabel.padStart(w1)}  ${whatIfLabel}`);
    for (const [name, recorded, whatIf] of rows) lines.push(`  ${name.padEnd(w0)}  ${recorded.padStart(w1)}  ${whatIf.padStart(whatIfLabel.length)}`);
    lines.push('  (waits count everyone placed: to admission, to leaving the line, or, still waiting, to the end of the log, a lower bound)');
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
