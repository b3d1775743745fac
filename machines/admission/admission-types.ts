import type { EvictionReason } from '../close-reasons.js';

export type ConnId = string;
export type SessionId = string;
export type RoomStatus = 'open' | 'paused' | 'closed';

/** What the room is asked to do. Every change to seats or queue starts as one of these. */
export type AdmissionCommand =
  /**
   * A new connection asks for a place. With `resume`, the session of a place the client says is its own (a
   * resume token presented at the upgrade): that place is taken back instead of a fresh one being made.
   */
  | { type: 'join'; conn: ConnId; session: SessionId; resume?: SessionId }
  /** Deliberate end: `leave`, a close frame with 1000 or no status (1005), or a close the server decided. */
  | { type: 'leave'; conn: ConnId }
  /** Abnormal end (1006, 1001, backpressure): a queued place is held for the resume window. */
  | { type: 'drop'; conn: ConnId }
  | { type: 'evict'; conn: ConnId; reason: EvictionReason }
  | { type: 'resume'; conn: ConnId; session: SessionId }
  /** A hold's timer fired; `expiresAt` names the hold it was armed for, so a stale timer decides nothing. */
  | { type: 'expireHold'; session: SessionId; expiresAt: number }
  /** A seat's TTL timer fired; `ttlUntil` names the seat it was armed for. */
  | { type: 'expireSeat'; conn: ConnId; ttlUntil: number }
  | { type: 'kick'; session: SessionId }
  | { type: 'setCapacity'; capacity: number }
  | { type: 'setMaxQueue'; maxQueue: number }
  | { type: 'pause' }
  | { type: 'open' }
  /** Close the room: everyone is evicted (`room_closed`, or `shutdown` when the server stops). */
  | { type: 'close'; reason?: 'room_closed' | 'shutdown' }
  /** Give free seats to the head of the line. The room asks it after every command while it is open. */
  | { type: 'promote' }
  /**
   * The server restarts (it stops gracefully with a data dir, or it starts again after a stop or a crash):
   * every place in line and every seat is held for `resumeWindowMs` from now, for its owner to `resume`.
   */
  | { type: 'holdForRestart' }
  /** The timer of a `heldForRestart` fired: the places and seats still held since then are released. */
  | { type: 'expireRestartHolds'; expiresAt: number }
  /** The timer of a `seatHeld` fired; `expiresAt` names the hold, so a stale timer decides nothing. */
  | { type: 'expireSeatHold'; session: SessionId; expiresAt: number };

/** Why a place or seat was given up without an eviction message. */
export type ReleaseReason = 'left' | 'dropped' | 'hold_expired' | 'superseded' | 'kicked' | 'room_closed' | 'shutdown';

/**
 * What the room decided. `evolve` applies these to the state; the edge acts on them; the event log records
 * them; replay compares them. Decisions that start a timer carry its due time (ms epoch on the room's clock),
 * so the log alone says when each timer is due.
 */
export type AdmissionDecision =
  | { type: 'queued'; conn: ConnId; session: SessionId; position: number; queueLength: number }
  /** `at`: when the seat was taken; `ttlUntil`: when it expires (null: no session limit). */
  | { type: 'admitted'; conn: ConnId; session: SessionId; at: number; ttlUntil: number | null }
  | { type: 'rejected'; conn: ConnId; session: SessionId; reason: 'queue_full' | 'room_closed' }
  | { type: 'released'; conn: ConnId | null; session: SessionId; from: 'seat' | 'queue'; reason: ReleaseReason }
  /** A queued place kept for a `resume` until `expiresAt`. */
  | { type: 'held'; conn: ConnId; session: SessionId; position: number; expiresAt: number }
  | { type: 'evicted'; conn: ConnId; session: SessionId; from: 'seat' | 'queue'; reason: EvictionReason }
  | {
      type: 'resumed';
      conn: ConnId;
      session: SessionId;
      /** The fresh session whose tail place was dropped in favour of the resumed one; null when the
       * connection asked for the place as it joined and never had a fresh one. */
      replacedSession: SessionId | null;
      /** The older connection that held the place live, now closed with `replaced`; null if the place was held. */
      replacedConn: ConnId | null;
      position: number;
      queueLength: number;
    }
  | { type: 'resumeRefused'; conn: ConnId; session: SessionId }
  | { type: 'capacityChanged'; capacity: number }
  | { type: 'maxQueueChanged'; maxQueue: number }
  | { type: 'statusChanged'; status: RoomStatus }
  /**
   * Every place in line and every seat is held until `expiresAt` (ms epoch) for a restart: connections are
   * gone, places keep their order and seats stay taken (never given to anyone else) until then.
   */
  | { type: 'heldForRestart'; expiresAt: number }
  /** A seat whose connection ended abnormally is held for its session's `resume` until `expiresAt` (`seatGraceMs`). */
  | { type: 'seatHeld'; conn: ConnId; session: SessionId; expiresAt: number }
  /**
   * A held seat goes back to its session on connection `conn`. `replacedConn`: the connection the seat was
   * held for (gone). `replacedSession`: the fresh place or seat `conn` had, given up (null when the seat was
   * asked for as the connection joined). `ttlUntil`: the seat's own session limit, unchanged.
   */
  | {
      type: 'seatResumed';
      conn: ConnId;
      session: SessionId;
      replacedConn: ConnId;
      replacedSession: SessionId | null;
      ttlUntil: number | null;
    };

export type AdmissionDecisionType = AdmissionDecision['type'];
export type DecisionOf<K extends AdmissionDecisionType> = Extract<AdmissionDecision, { type: K }>;
