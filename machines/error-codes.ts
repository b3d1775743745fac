/**
 * The error codes of `error` messages (protocol v1 and v2). Each names the close that follows it, if any: the
 * connection stays open unless it does.
 */
export const errorCodes = {
  bad_json: { closes: null, meaning: 'the frame is not JSON' },
  not_an_object: { closes: null, meaning: 'the JSON is not an object with a string `type`' },
  unknown_type: { closes: null, meaning: 'the `type` is not one this server knows' },
  invalid_message: { closes: null, meaning: 'a field is missing or of the wrong type' },
  rate_limited: { closes: null, meaning: 'over the message rate; `retryAfterMs` says when to send again (a client that keeps flooding is closed with 1008)' },
  binary_not_supported: { closes: 'binary', meaning: 'a binary frame; close 1003 follows' },
  bad_resume: { closes: null, meaning: 'the resume token is unknown or expired, or no place is held for it; the connection keeps its own place' },
  not_admitted: { closes: null, meaning: 'chat (`say`, `typing`, `history`) from a session that is not admitted to a live room, or in a room without chat' },
  unsupported_version: { closes: null, meaning: 'a `hello` with a protocol version this server does not speak (it speaks 2)' },
  internal: { closes: 'internal', meaning: 'the server failed to handle the message; close 1011 follows' },
} as const;

/** The `code` of an `error` message. */
export type ErrorCode = keyof typeof errorCodes;
export const ErrorCodes = Object.keys(errorCodes) as ErrorCode[];
