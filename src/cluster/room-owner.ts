import { createActor, type Actor } from 'xstate';
import type { AdmissionState } from '../../machines/admission/admission-state.js';
import type { AdmissionCommand, AdmissionDecision } from '../../machines/admission/admission-types.js';
import { recoveredRoomSnapshot, roomMachine } from '../../machines/room.machine.js';
import type { RoomConfig } from '../config/server-config.js';
import { snapshotOfAdmission } from '../../machines/admission/admission-snapshot.js';
import type { AppliedCommands, ForwardedCommand, LogEntry, LogStep } from './log-entry.js';
import { dueTimers } from './owner-timers.js';

/** Appends an entry to the room's stream if its last sequence is still `expectedLastSeq`; resolves with the new one. */
export type AppendEntry = (entry: LogEntry, expectedLastSeq: number) => Promise<number>;

export interface RoomOwnerOptions {
  settings: RoomConfig;
  nodeId: string;
  /** The room as the stream left it (taken by reference: the owner's actor changes it). */
  state: AdmissionState;
  /** The stream sequence of the room's last entry (0 for none): the next append expects it. */
  lastSeq: number;
  /** The commands the stream says were applied (taken by reference). */
  applied: AppliedCommands;
  append: AppendEntry;
  /** The owner can no longer append (deposed, or NATS failed): it has stopped; the node gives up the lease. */
  onDeposed: (error: unknown) => void;
  now?: () => number;
  /**
   * Whether the lease is still this node's to act on (default: always). Checked before every append: a process
   * paused past its lease (SIGSTOP, a long GC) and resumed must not append even while the new owner has not yet
   * appended anything, which the expected-sequence check alone cannot tell.
   */
  leaseValid?: () => boolean;
  /** A command of the owner's own to decide first, before `command` (null: none). */
  before?: (state: Readonly<AdmissionState>, command: AdmissionCommand) => AdmissionCommand | null;
}

interface Pending {
  step: LogStep;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The one writer of a room in a cluster, on the node that holds its lease: the room admission actor, started
 * from the room as the stream left it. Each command is decided at once, in arrival order, and its decisions
 * are appended to the room's stream with the expected last sequence, in order, entries waiting meanwhile going
 * as one append. Nothing is told to anyone here: every node (this one too) acts on decisions only once they
 * come back from the stream, so a decision whose append fails never happened. A command id already applied,
 * or on its way, is not applied again.
 */
export class RoomOwner {
  private readonly actor: Actor<typeof roomMachine>;
  private readonly options: RoomOwnerOptions;
  private readonly now: () => number;
  private collected: AdmissionDecision[] = [];
  private deciding = false;
  private decidingAt = 0;
  private readonly waiting: Pending[] = [];
  private appending = false;
  private lastSeq: number;
  private failure: unknown = null;
  private readonly onTheirWay = new Map<string, Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** The room the first append of a fresh room's log starts from (kept only while the log is empty). */
  private readonly opened: LogEntry['opened'] | null;

  constructor(options: RoomOwnerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.lastSeq = options.lastSeq;
    this.opened = options.lastSeq === 0 ? snapshotOfAdmission(options.state) : null;
    // A command is decided at one time, recorded with it, so a replay decides it the same.
    // A cluster serves no live room (the configuration refuses one): the actor is never given chat.
    const input = { ...options.settings, chat: undefined, room: options.settings.name, now: () => (this.deciding ? this.decidingAt : this.now()) };
    this.actor = createActor(roomMachine, { input, snapshot: recoveredRoomSnapshot({ ...input, recovered: options.state }) });
    this.actor.on('*', (decision) => {
      // Without chat, a room decides admissions only.
      this.collected.push(decision as AdmissionDecision);
      // A timer of the actor's own (a hold that ends, pacing): its decisions go out as an entry of no command.
      if (!this.deciding) queueMicrotask(() => void this.enqueueCollected(null, null).catch(() => {}));
    });
    this.actor.start();
    for (const timer of dueTimers(options.state)) {
      this.timers.push(setTimeout(() => void this.decide(timer.command, null).catch(() => {}), Math.max(0, timer.at - this.now())));
    }
  }

  /** Whether the owner still appends (false once deposed or stopped). */
  get active(): boolean {
    return this.failure === null;
  }

  /**
   * Applies `commands` in order, each at most once cluster-wide; resolves once all are in the stream (those
   * already applied at once), rejects when the owner was deposed before they were.
   */
  apply(commands: readonly ForwardedCommand[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const waits: Promise<void>[] = [];
    for (const { id, command } of commands) {
      const onItsWay = this.onTheirWay.get(id);
      if (onItsWay) waits.push(onItsWay);
      if (onItsWay || this.options.applied.has(id)) continue;
      this.options.applied.add(id);
      const first = this.options.before?.(this.options.state, command) ?? null;
      if (first !== null) void this.decide(first, null).catch(() => {});
      const appended = this.decide(command, id);
      this.onTheirWay.set(id, appended);
      void appended.then(
        () => this.onTheirWay.delete(id),
        () => this.onTheirWay.delete(id),
      );
      waits.push(appended);
    }
    return Promise.all(waits).then(() => {});
  }

  /** A command of the owner's own (no id: timers, holding a dead node's sessions). */
  decideOwn(command: AdmissionCommand): Promise<void> {
    return this.decide(command, null);
  }

  /** Stops deciding (the lease is given up): appends under way are rejected. */
  stop(error: unknown = new Error('the room owner stopped')): void {
    if (this.failure !== null) return;
    this.failure = error;
    for (const timer of this.timers) clearTimeout(timer);
    this.actor.stop();
    for (const pending of this.waiting.splice(0)) pending.reject(error);
  }

  private decide(command: AdmissionCommand, id: string | null): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.deciding = true;
    this.decidingAt = this.now();
    try {
      this.actor.send(command);
    } finally {
      this.deciding = false;
    }
    return this.enqueueCollected(id, command, this.decidingAt);
  }

  private enqueueCollected(id: string | null, command: AdmissionCommand | null, at = this.now()): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (id === null && this.collected.length === 0) return Promise.resolve();
    const step: LogStep = { id, command, at, decisions: this.collected };
    this.collected = [];
    return new Promise((resolve, reject) => {
      this.waiting.push({ step, resolve, reject });
      void this.appendWaiting();
    });
  }

  /** One append at a time, each expecting the sequence the last one got; what waits meanwhile goes as one. */
  private async appendWaiting(): Promise<void> {
    if (this.appending || this.waiting.length === 0 || this.failure !== null) return;
    this.appending = true;
    const batch = this.waiting.splice(0);
    const entry: LogEntry = { by: this.options.nodeId, steps: batch.map((pending) => pending.step) };
    if (this.lastSeq === 0 && this.opened !== null) entry.opened = this.opened;
    try {
      if (this.options.leaseValid?.() === false) throw new Error('the lease expired before the append');
      this.lastSeq = await this.options.append(entry, this.lastSeq);
    } catch (error) {
      this.appending = false;
      for (const pending of batch) pending.reject(error);
      if (this.failure === null) {
        this.stop(error);
        this.options.onDeposed(error);
      }
      return;
    }
    this.appending = false;
    for (const pending of batch) pending.resolve();
    void this.appendWaiting();
  }
}
