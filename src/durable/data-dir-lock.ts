import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/** The lock file in a data dir: it holds the pid of the server that owns the directory. */
export const lockFileName = 'lock';

export interface DataDirLock {
  readonly path: string;
  /** Gives the directory up (removes the lock file). Idempotent. */
  release(): void;
}

/**
 * Takes the data dir for this process: creates `<dir>/lock` exclusively (O_EXCL) with this pid. A lock left by
 * a process that no longer runs (a crash) is taken over; a lock whose process still runs is refused with a
 * ConfigError naming it (the command line exits 2), so two servers never write one log.
 */
export function acquireDataDirLock(dir: string): DataDirLock {
  const path = join(dir, lockFileName);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return {
        path,
        release() {
          if (!held) return;
          held = false;
          try {
            unlinkSync(path);
          } catch {
            // Already gone: nothing to give up.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = lockOwner(path);
      if (owner !== null && isRunning(owner)) {
        throw new ConfigError(`--data-dir ${dir}: in use by another anteroom server (pid ${owner}); stop it first or choose another directory`);
      }
      // Stale: its process is gone (a crash or a kill). Removed, then taken afresh with O_EXCL.
      try {
        unlinkSync(path);
      } catch {
        // Another starter removed it first; the next attempt decides.
      }
    }
  }
  throw new ConfigError(`--data-dir ${dir}: could not take the lock file ${path}`);
}

function lockOwner(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
