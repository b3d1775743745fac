/**
 * The one table of close codes and error codes (protocol v1). Server, client and docs all read from here.
 */

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  noStatus: 1005,
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  heartbeatTimeout: 4000,
  sessionExpired: 4001,
  queueFull: 4003,
  unknownRoom: 4004,
  replaced: 4005,
  roomClosed: 4006,
  tooManyConnections: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const closeCodeMeaning: Readonly<Record<number, string>> = {
  1000: 'normal close after leave',
  1001: 'server shutting down (or the client going away)',
  1002: 'WebSocket protocol error',
  1003: 'binary frame',
  1005: 'closed without a status code',
  1006: 'closed abnormally, without a close frame',
  1007: 'text frame is not valid UTF-8',
  1008: 'policy: rate limit or origin',
  1009: 'message too large',
  1011: 'internal error',
  4000: 'heartbeat timeout',
  4001: 'session expired',
  4003: 'queue full',
  4004: 'unknown room',
  4005: 'replaced by a newer connection of the same session',
  4006: 'room closed',
  4029: 'too many connections',
};

export const ErrorCodes = [
  'bad_json',
  'not_an_object',
  'unknown_type',
  'invalid_message',
  'rate_limited',
  'too_large',
  'binary_not_supported',
  'bad_resume',
  'internal',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export const EvictionReasons = [
  'heartbeat_timeout',
  'session_expired',
  'replaced',
  'room_closed',
  'shutdown',
  'kicked',
] as const;
export type EvictionReason = (typeof EvictionReasons)[number];

/** The close code that follows an `evicted` message with this reason. */
export const closeCodeForEviction: Readonly<Record<EvictionReason, CloseCode>> = {
  heartbeat_timeout: CloseCode.heartbeatTimeout,
  session_expired: CloseCode.sessionExpired,
  replaced: CloseCode.replaced,
  room_closed: CloseCode.roomClosed,
  shutdown: CloseCode.goingAway,
  kicked: CloseCode.policyViolation,
};
