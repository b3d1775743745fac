/**
 * The one table of why a connection ends. For each reason: its WebSocket close code (RFC 6455 §7.4 for
 * 1000–1015; 4000–4999 are this protocol's own), the `evicted` reason the client is told first (if any), what
 * becomes of the place or seat, whether a client should reconnect, and what it means. The server, the client
 * library, the waiting page and `docs/protocol.md` all read from here.
 */

/** Reasons sent in an `evicted` message just before the server closes a session. */
export const EvictionReasons = ['heartbeat_timeout', 'session_expired', 'replaced', 'room_closed', 'shutdown', 'kicked', 'maintenance', 'restart'] as const;
export type EvictionReason = (typeof EvictionReasons)[number];

/**
 * What a close does to the connection's place in line or seat:
 * - `released`: given up at once (the seat goes to the head of the line in the same turn);
 * - `held`: a queued place is kept for `resumeWindowMs` so a `resume` can take it back (a seat is released);
 * - `none`: the connection never had one (refused before it was placed).
 */
export type PlaceAfterClose = 'released' | 'held' | 'none';

/** One row of the close-reason table. */
export interface CloseReason {
  /** WebSocket close code. */
  readonly code: number;
  /** Who closes with it: the server, the client, or either (the server on its side, a browser on its own). */
  readonly by: 'server' | 'client' | 'either';
  /** The `evicted` message sent just before the close, or null when the close is not an eviction. */
  readonly evicted: EvictionReason | null;
  readonly place: PlaceAfterClose;
  /** Whether a client should open a new connection (and resume) after it. */
  readonly reconnect: boolean;
  /** One line for operators and the protocol docs. */
  readonly meaning: string;
  /** What the waiting page tells a visitor; `{room}` stands for the room's name. Null: nothing specific. */
  readonly visitor: { readonly title: string; readonly text: string } | null;
}

const reason = (fields: CloseReason): CloseReason => fields;

/** The close-reason table, by name; `CloseCode` and the generated docs table are read from it. */
export const closeReasons = {
  left: reason({
    code: 1000, by: 'either', evicted: null, place: 'released', reconnect: false,
    meaning: 'normal close after `leave` (or the client closed on purpose)',
    visitor: { title: 'You left the line', text: 'Your place has been given up. You can join again at any time.' },
  }),
  goingAway: reason({
    code: 1001, by: 'client', evicted: null, place: 'held', reconnect: true,
    meaning: 'the client is going away (a page reload or navigation)', visitor: null,
  }),
  shutdown: reason({
    code: 1001, by: 'server', evicted: 'shutdown', place: 'released', reconnect: true,
    meaning: 'the server is shutting down', visitor: null,
  }),
  protocolError: reason({
    code: 1002, by: 'server', evicted: null, place: 'released', reconnect: false,
    meaning: 'WebSocket protocol error', visitor: null,
  }),
  binary: reason({
    code: 1003, by: 'server', evicted: null, place: 'released', reconnect: false,
    meaning: 'binary frame (preceded by `error{code:"binary_not_supported"}`)', visitor: null,
  }),
  noStatus: reason({
    code: 1005, by: 'client', evicted: null, place: 'released', reconnect: false,
    meaning: 'closed without a status code (treated as a deliberate close)', visitor: null,
  }),
  abnormal: reason({
    code: 1006, by: 'client', evicted: null, place: 'held', reconnect: true,
    meaning: 'closed abnormally, without a close frame (never sent on the wire)', visitor: null,
  }),
  badUtf8: reason({
    code: 1007, by: 'server', evicted: null, place: 'released', reconnect: false,
    meaning: 'text frame is not valid UTF-8', visitor: null,
  }),
  flood: reason({
    code: 1008, by: 'server', evicted: null, place: 'released', reconnect: false,
    meaning: 'policy: the client kept sending over its rate limit',
    visitor: { title: 'Disconnected', text: 'This page sent too many requests. Join again in a moment.' },
  }),
  tooLarge: reason({
    code: 1009, by: 'server', evicted: null, place: 'released', reconnect: false,
    meaning: 'message too large (default limit 64 KiB)', visitor: null,
  }),
  internal: reason({
    code: 1011, by: 'server', evicted: null, place: 'held', reconnect: true,
    meaning: 'internal error (preceded by `error{code:"internal"}`); a queued place is held, so reconnecting resumes it',
    visitor: { title: 'Something went wrong', text: 'The waiting room had a problem. Reconnecting…' },
  }),
  heartbeatTimeout: reason({
    code: 4000, by: 'server', evicted: 'heartbeat_timeout', place: 'released', reconnect: false,
    meaning: 'heartbeat timeout',
    visitor: { title: 'Disconnected', text: 'This page stopped responding, so its place was released.' },
  }),
  sessionExpired: reason({
    code: 4001, by: 'server', evicted: 'session_expired', place: 'released', reconnect: false,
    meaning: 'session expired (room `sessionTtlMs`)',
    visitor: { title: 'Your time is up', text: 'Your session reached its time limit.' },
  }),
  queueFull: reason({
    code: 4003, by: 'server', evicted: null, place: 'none', reconnect: false,
    meaning: 'queue full (room `maxQueue`)',
    visitor: { title: 'The line is full', text: 'Too many people are waiting right now. Please try again in a little while.' },
  }),
  unknownRoom: reason({
    code: 4004, by: 'server', evicted: null, place: 'none', reconnect: false,
    meaning: 'unknown room',
    visitor: { title: 'No such waiting room', text: 'There is no waiting room called “{room}”.' },
  }),
  replaced: reason({
    code: 4005, by: 'server', evicted: 'replaced', place: 'released', reconnect: false,
    meaning: 'replaced by a newer connection of the same session or signed-in user',
    visitor: { title: 'Open in another tab', text: 'Your place moved to a newer page. Continue there.' },
  }),
  roomClosed: reason({
    code: 4006, by: 'server', evicted: 'room_closed', place: 'released', reconnect: false,
    meaning: 'room closed',
    visitor: { title: 'This waiting room is closed', text: 'It is not letting anyone in at the moment.' },
  }),
  maintenance: reason({
    code: 4007, by: 'server', evicted: 'maintenance', place: 'released', reconnect: false,
    meaning: 'room under maintenance: the seat is released; places in line are kept',
    visitor: { title: 'Down for maintenance', text: 'The site behind this waiting room is under maintenance. Your visit has ended; you can join the line again.' },
  }),
  restart: reason({
    code: 1012, by: 'server', evicted: 'restart', place: 'held', reconnect: true,
    meaning: 'service restart: the server stops with a data dir; every place and seat is held for `resumeWindowMs`, so reconnecting resumes it',
    visitor: { title: 'The waiting room is restarting', text: 'Your place is kept. Reconnecting…' },
  }),
  kicked: reason({
    code: 4008, by: 'server', evicted: 'kicked', place: 'released', reconnect: false,
    meaning: 'removed by an operator',
    visitor: { title: 'Removed from the line', text: 'An operator ended your visit.' },
  }),
  placesPerIp: reason({
    code: 4029, by: 'server', evicted: null, place: 'none', reconnect: false,
    meaning: 'too many places in this room from one client address (room `maxPlacesPerIp`)',
    visitor: { title: 'Too many visitors from your network', text: 'This waiting room allows only a few places per network address. Close another tab or try again later.' },
  }),
} as const satisfies Record<string, CloseReason>;

export type CloseReasonName = keyof typeof closeReasons;

/** Close codes by name, for code that speaks in codes (`CloseCode.heartbeatTimeout` is 4000). */
export const CloseCode = Object.fromEntries(
  Object.entries(closeReasons).map(([name, entry]) => [name, entry.code]),
) as { readonly [K in CloseReasonName]: (typeof closeReasons)[K]['code'] };

const closeReasonNames = Object.keys(closeReasons) as CloseReasonName[];

/** The reason an eviction closes with: its code and everything the table says of it. */
export const closeReasonForEviction = Object.fromEntries(
  closeReasonNames.filter((name) => closeReasons[name].evicted !== null).map((name) => [closeReasons[name].evicted, name]),
) as Readonly<Record<EvictionReason, CloseReasonName>>;

/**
 * The entry for a close code as the receiving side sees it. Where the server and a client share a code (1001:
 * a page going away, or the server shutting down), `by` picks the sender; without it the server's entry wins.
 * Undefined for a code the table does not know (a client may close with any 3000–4999 code).
 */
export function closeReasonForCode(code: number, by?: 'server' | 'client'): CloseReason | undefined {
  const matches = closeReasonNames.map((name) => closeReasons[name] as CloseReason).filter((entry) => entry.code === code);
  if (by !== undefined) return matches.find((entry) => entry.by === by || entry.by === 'either');
  return matches.find((entry) => entry.by !== 'client') ?? matches[0];
}

/**
 * What a close frame from the client (or the socket's end) does to its place: released for a deliberate close
 * (1000, or 1005 without a status) and for the codes of a close the server makes for what a client sent
 * (1002, 1003, 1007, 1008, 1009); held for anything else (1001, 1006, 1011, a code of the client's own), so a
 * reload or a network drop never costs a visitor their place.
 */
export function placeAfterClientClose(code: number): 'released' | 'held' {
  const entry = closeReasonForCode(code, 'client') ?? closeReasonForCode(code, 'server');
  return entry !== undefined && entry.place === 'released' && entry.evicted === null ? 'released' : 'held';
}

/** Whether a client should reconnect after a close with `code`: 1001, 1006, 1011 and 1012 yes, the rest no. */
export function closeAllowsReconnect(code: number): boolean {
  return closeReasonForCode(code)?.reconnect ?? false;
}
