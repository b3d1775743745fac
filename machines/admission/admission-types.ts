import type { EvictionReason } from '../../src/protocol/codes.js';

export type ConnId = string;
export type SessionId = string;
export type RoomStatus = 'open' | 'paused' | 'closed';

/** What the room is asked to do. Every change to seats or queue is one of these. */
export type AdmissionCommand =
  | { type: 'join'; conn: ConnId; session: SessionId }
  /** Deliberate leave: `leave` message, or a close frame with 1000 or no status (1005). */
  | { type: 'leave'; conn: ConnId }
  /** Abnormal end (1006, 1001, backpressure): a queued place is held for the resume window. */
  | { type: 'drop'; conn: ConnId }
  | { type: 'evict'; conn: ConnId; reason: EvictionReason }
  | { type: 'resume'; conn: ConnId; session: SessionId }
  | { type: 'expireHold'; session: SessionId }
  | { type: 'expireSession'; conn: ConnId }
  | { type: 'kick'; session: SessionId }
  | { type: 'setCapacity'; capacity: number }
  | { type: 'setMaxQueue'; maxQueue: number }
  | { type: 'pause' }
  | { type: 'open' }
  /** Close the room: everyone is evicted (`room_closed`, or `shutdown` when the server stops). */
  | { type: 'close'; reason?: 'room_closed' | 'shutdown' };

/** What the room decided. The edge acts on these; the event log records them; replay compares them. */
export type AdmissionDecision =
  | { type: 'queued'; conn: ConnId; session: SessionId; position: number; queueLength: number }
  | { type: 'admitted'; conn: ConnId; session: SessionId }
  | { type: 'rejected'; conn: ConnId; session: SessionId; reason: 'queue_full' | 'room_closed' }
  | {
      type: 'released';
      conn: ConnId | null;
      session: SessionId;
      from: 'seat' | 'queue';
      reason: 'left' | 'dropped' | 'hold_expired' | 'superseded' | 'kicked' | 'room_closed' | 'shutdown';
    }
  | { type: 'held'; conn: ConnId; session: SessionId; position: number }
  | { type: 'evicted'; conn: ConnId; session: SessionId; from: 'seat' | 'queue'; reason: EvictionReason }
  | {
      type: 'resumed';
      conn: ConnId;
      session: SessionId;
      /** The fresh session whose tail place was dropped in favour of the resumed one. */
      replacedSession: SessionId;
      /** The older connection that held the place live, now closed with `replaced`; null if the place was held. */
      replacedConn: ConnId | null;
      position: number;
      queueLength: number;
    }
  | { type: 'resumeRefused'; conn: ConnId; session: SessionId }
  | { type: 'capacityChanged'; capacity: number }
  | { type: 'maxQueueChanged'; maxQueue: number }
  | { type: 'statusChanged'; status: RoomStatus };

export type AdmissionDecisionType = AdmissionDecision['type'];
