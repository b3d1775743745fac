import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/server-config.js';

/**
 * Structured logs: JSON lines by default, readable lines when stdout is a terminal. Token fields are
 * redacted wherever they appear.
 */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    base: { service: 'anteroom' },
    redact: { paths: ['token', 'resumeToken', '*.token', '*.resumeToken', 'authorization', '*.authorization'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } } } : {}),
  }, pretty ? undefined : pino.destination({ dest: 2, sync: false }));
}
