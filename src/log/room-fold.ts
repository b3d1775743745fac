import { createAdmissionState, type AdmissionState } from '../../machines/admission/admission-state.js';
import { evolve } from '../../machines/admission/evolve.js';
import type { RoomConfig } from '../config/server-config.js';
import { decisionOf, isDecisionRecord, type EventRecord } from './event-record.js';

/** One room as the fold rebuilt it: its settings as opened and its admission state now. */
export interface FoldedRoom {
  settings: RoomConfig;
  state: AdmissionState;
  /** Set for a room an operator created at run time (`PUT /api/rooms/<room>`). */
  createdBy?: 'operator';
}

/** A decision that cannot be applied to the room as the fold stands: the log contradicts itself at `seq`. */
export class FoldError extends Error {
  constructor(
    readonly seq: number,
    reason: string,
  ) {
    super(`the decision at seq ${seq} does not fit the room as its earlier decisions left it (${reason})`);
  }
}

/**
 * Rooms rebuilt from their records by `evolve`: the one way a view rebuilds a room from a log (`--until`,
 * `--explain`, timelines, a replica). A `room.opened` record starts the room afresh (a server restart); every
 * decision record is applied in `seq` order; inputs are skipped (they decide nothing by themselves).
 */
export class RoomFold {
  readonly rooms: Map<string, FoldedRoom>;
  /** Rooms an operator removed (`DELETE /api/rooms/<room>`) and nobody opened again since. */
  readonly removed: Set<string>;

  /** `seed`: rooms as a snapshot left them (and those it says were removed), when the log starts after it. */
  constructor(seed?: Iterable<[string, FoldedRoom]>, removed?: Iterable<string>) {
    this.rooms = new Map(seed ?? []);
    this.removed = new Set(removed ?? []);
  }

  /**
   * Applies one record; returns the room it concerned as it now stands (undefined for a room never opened).
   * @throws FoldError when a decision names a place or seat the room does not have (a log that was edited).
   */
  apply(record: EventRecord): FoldedRoom | undefined {
    if (record.kind === 'room.opened') {
      const room: FoldedRoom = { settings: record.data.settings, state: createAdmissionState(record.data.settings) };
      if (record.data.createdBy !== undefined) room.createdBy = record.data.createdBy;
      this.rooms.set(record.room, room);
      this.removed.delete(record.room);
      return room;
    }
    if (record.kind === 'room.removed') {
      this.rooms.delete(record.room);
      this.removed.add(record.room);
      return undefined;
    }
    const room = this.rooms.get(record.room);
    // A restart goes on from the state the room had: only its configured settings are new.
    if (record.kind === 'room.recovered' && room) room.settings = record.data.settings;
    if (room && isDecisionRecord(record)) {
      try {
        evolve(room.state, decisionOf(record));
      } catch (error) {
        throw new FoldError(record.seq, error instanceof Error ? error.message : String(error));
      }
    }
    return room;
  }

  /** Folds every record of `records` in order. */
  static of(records: Iterable<EventRecord>): RoomFold {
    const fold = new RoomFold();
    for (const record of records) fold.apply(record);
    return fold;
  }
}
