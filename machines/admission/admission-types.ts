import type { EvictionReason } from '../close-reasons.js';

export type ConnId = string;
export type SessionId = string;
/** A proven identity (a JWT's `sub` or an account name): at most one place or seat per user in a room. */
export type UserId = string;
/**
 * What a room does with its line: `scheduled` (before `opensAt`) gathers a pre-queue; `open` admits; `paused` and `maintenance` admit no one and keep every place
 * (maintenance also ends every seat); `closed` turns everyone away.
 */
export type RoomStatus = 'scheduled' | 'open' | 'paused' | 'maintenance' | 'closed';

/** Longest operator notice, in UTF-16 units. */
export const maxNoticeLength = 280;

/** What the room is asked to do. Every change to seats or queue starts as one of these. */
export type AdmissionCommand =
  /**
   * A new connection asks for a place. With `resume`, the session of a place the client says is its own (a
   * resume token presented at the upgrade): that place is taken back instead of a fresh one being made. With
   * `user` (an authenticated identity, protocol v2 section 5), a place or seat the user already holds in the
   * room is taken over instead (its older connection is replaced), so one user never holds two.
   */
  | { type: 'join'; conn: ConnId; session: SessionId; resume?: SessionId; priority?: number; user?: UserId }
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
  /** The protected site refreshed a session whose seat follows the visitor (site sessions). */
  | { type: 'refreshSite'; session: SessionId }
  /** The protected site ended a site session: its seat goes to the head of the line. */
  | { type: 'releaseSite'; session: SessionId }
  /** A site session's timer fired; `until` names the refresh it was armed for. */
  | { type: 'expireSiteSession'; session: SessionId; until: number }
  | { type: 'setCapacity'; capacity: number }
  | { type: 'setMaxQueue'; maxQueue: number }
  | { type: 'pause' }
  /** Open; `drawSeed` (32 hex digits) draws the pre-queue's order when its draw is still pending. */
  | { type: 'open'; drawSeed?: string }
  /** Before `opensAt` (ms epoch): arrivals wait in a pre-queue, without positions, until the draw. */
  | { type: 'schedule'; opensAt: number }
  /**
   * `opensAt` came: the pre-queue is placed in the random order `drawSeed` gives (32 hex digits, from a
   * cryptographic source, recorded), and a room still `scheduled` opens.
   */
  | { type: 'draw'; drawSeed: string }
  /** Maintenance: every seated session is evicted (`maintenance`); the line stays and new arrivals queue. */
  | { type: 'maintenance' }
  /** The operator's notice to everyone in the room (text of at most `maxNoticeLength`, or null for none). */
  | { type: 'setNotice'; notice: string | null }
  /** At most `admissionRate` admissions per second (0 = no limit), paced by a token bucket on the room's clock. */
  | { type: 'setAdmissionRate'; admissionRate: number }
  /** Close the room: everyone is evicted (`room_closed`, or `shutdown` when the server stops). */
  | { type: 'close'; reason?: 'room_closed' | 'shutdown' }
  /** Give free seats to the head of the line. The room asks it after every command while it is open. */
  | { type: 'promote' }
  /**
   * The server restarts (it stops gracefully with a data dir, or it starts again after a stop or a crash):
   * every place in line and every seat is held for `resumeWindowMs` from now, for its owner to `resume`.
   */
  | {
      type: 'holdForRestart';
      /** Only these connections' places and seats (a cluster node that died); absent: everyone's. */
      conns?: ConnId[];
      /** `replaced`: their session came back on another connection, which takes the place or seat over. */
      reason?: 'replaced';
    }
  /** The timer of a `heldForRestart` fired: the places and seats still held since then are released. */
  | { type: 'expireRestartHolds'; expiresAt: number }
  /** The timer of a `seatHeld` fired; `expiresAt` names the hold, so a stale timer decides nothing. */
  | { type: 'expireSeatHold'; session: SessionId; expiresAt: number };

/** Why a place or seat was given up without an eviction message. */
export type ReleaseReason =
  | 'left'
  | 'dropped'
  | 'hold_expired'
  | 'superseded'
  | 'kicked'
  | 'room_closed'
  | 'shutdown'
  | 'site_released'
  | 'site_expired';

/**
 * What the room decided. `evolve` applies these to the state; the edge acts on them; the event log records
 * them; replay compares them. Decisions that start a timer carry its due time (ms epoch on the room's clock),
 * so the log alone says when each timer is due.
 */
export type AdmissionDecision =
  /**
   * `priority` is present only above 0, so a line without priorities records what it always did. `user`, on
   * this and the decisions below: the authenticated user the new place belongs to from now on (absent for a
   * guest, so a log without identities records what it always did).
   */
  | { type: 'queued'; conn: ConnId; session: SessionId; position: number; queueLength: number; priority?: number; user?: UserId }
  /** `at`: when the seat was taken; `ttlUntil`: when it expires (null: no session limit). */
  | { type: 'admitted'; conn: ConnId; session: SessionId; at: number; ttlUntil: number | null; user?: UserId }
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
      /** Set when the join of an authenticated user took over the user's place (or the place becomes the user's). */
      user?: UserId;
    }
  | { type: 'resumeRefused'; conn: ConnId; session: SessionId }
  | { type: 'capacityChanged'; capacity: number }
  | { type: 'maxQueueChanged'; maxQueue: number }
  | { type: 'statusChanged'; status: RoomStatus }
  | { type: 'noticeChanged'; notice: string | null }
  /**
   * A seat follows its visitor to the site: its socket ended, and the seat is kept until `until` (ms epoch)
   * unless the site refreshes it (`siteRefreshed` moves `until` on).
   */
  | { type: 'seatKept'; conn: ConnId; session: SessionId; until: number }
  | { type: 'siteRefreshed'; conn: ConnId; session: SessionId; until: number }
  /** The room gathers a pre-queue until `opensAt` (ms epoch): status `scheduled`. */
  | { type: 'scheduled'; opensAt: number }
  /** The pre-queue was placed in the order the seed draws (see `pre-queue-draw.ts`), each priority on its own. */
  | { type: 'drawn'; drawSeed: string }
  | { type: 'admissionRateChanged'; admissionRate: number }
  /**
   * Free seats wait for the admission rate: the room asks itself to `promote` again at `dueAt` (ms epoch on the
   * room's clock), when the token bucket next holds an admission.
   */
  | { type: 'paced'; dueAt: number }
  /**
   * Every place in line and every seat is held until `expiresAt` (ms epoch) for a restart: connections are
   * gone, places keep their order and seats stay taken (never given to anyone else) until then.
   */
  | { type: 'heldForRestart'; expiresAt: number; conns?: ConnId[]; reason?: 'replaced' }
  /** A seat whose connection ended abnormally is held for its session's `resume` until `expiresAt` (`seatGraceMs`). */
  | { type: 'seatHeld'; conn: ConnId; session: SessionId; expiresAt: number }
  /**
   * A held seat goes back to its session on connection `conn`. `replacedConn`: the connection the seat was
   * held for (gone), or, when an authenticated user's join takes over the user's live seat, the older
   * connection, now closed with `replaced`. `replacedSession`: the fresh place or seat `conn` had, given up
   * (null when the seat was asked for as the connection joined). `ttlUntil`: the seat's own session limit,
   * unchanged. `user`: set when the seat was taken over by (or becomes) an authenticated user's.
   */
  | {
      type: 'seatResumed';
      conn: ConnId;
      session: SessionId;
      replacedConn: ConnId;
      replacedSession: SessionId | null;
      ttlUntil: number | null;
      user?: UserId;
    };

export type AdmissionDecisionType = AdmissionDecision['type'];
export type DecisionOf<K extends AdmissionDecisionType> = Extract<AdmissionDecision, { type: K }>;
