import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/server-config.js';

/**
 * Fields that hold secrets: admission tokens, resume tokens, the admin bearer token and Authorization
 * headers, at the top of a log line or one level down (`{ message: { token } }`, `{ headers: { authorization } }`).
 */
export const redactedLogPaths: readonly string[] = [
  'token',
  'resumeToken',
  'adminToken',
  'authorization',
  '*.token',
  '*.resumeToken',
  '*.adminToken',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

export const redactionCensor = '[redacted]';

/**
 * Structured logs: JSON lines by default, readable lines when stdout is a terminal; both on stderr, so the
 * ready line on stdout stays alone. Give `destination` to write the JSON lines somewhere else (tests).
 */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'anteroom' },
    redact: { paths: [...redactedLogPaths], censor: redactionCensor },
  };
  if (destination) return pino(options, destination);
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } } });
  return pino(options, pino.destination({ dest: 2, sync: false }));
}
