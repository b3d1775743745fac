import { ConfigError } from '../config/config-error.js';
import { EventLogFormatError } from '../log/read-event-log.js';

/** What the command line prints when a command fails, and the exit code it leaves. */
export interface FailureReport {
  text: string;
  exitCode: number;
}

/** Failures of the system call a user can fix by changing what they asked for (a path, an address). */
const userErrnoMeaning: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not one of this machine',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'the host name could not be resolved',
};

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}

function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as Partial<SystemError>).code === 'string';
}

/**
 * One line for a mistake the user can fix (a bad setting, a missing file, a busy port, a file that is not an
 * event log), exit 2. An `Error`
 * thrown on purpose carries its own message for people, so it gets one line too (exit 1). Only an error of
 * another kind (a TypeError, say) is a fault in anteroom, and only then is the stack worth printing.
 */
export function failureReport(error: unknown): FailureReport {
  if (error instanceof ConfigError || error instanceof EventLogFormatError) return { text: `anteroom: ${error.message}\n`, exitCode: 2 };
  if (isSystemError(error) && Object.hasOwn(userErrnoMeaning, error.code)) {
    return { text: `anteroom: ${describeSystemError(error)}\n`, exitCode: 2 };
  }
  if (error instanceof Error && error.constructor === Error) return { text: `anteroom: ${oneLine(error.message)}\n`, exitCode: 1 };
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { text: `anteroom: internal error: ${detail}\n`, exitCode: 1 };
}

function describeSystemError(error: SystemError): string {
  const meaning = userErrnoMeaning[error.code]!;
  if (error.path !== undefined) return `${error.path}: ${meaning}`;
  if (error.address !== undefined) {
    const host = error.address.includes(':') ? `[${error.address}]` : error.address;
    return `${error.port === undefined ? host : `${host}:${error.port}`}: ${meaning}`;
  }
  return oneLine(error.message);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
