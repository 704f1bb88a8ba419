import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PGlite has no guard against two processes opening one data directory (electric-sql/pglite#1106);
 * two writers corrupt it. We hold an exclusive lock file for as long as the store is open. A lock
 * left by a process that no longer exists (kill -9, power loss) is stale and is taken over.
 */
export class DataDirLockedError extends Error {
  constructor(readonly dir: string, readonly ownerPid: number) {
    super(`The data directory ${dir} is in use by process ${ownerPid}. Stop that process, or point DATA_DIR elsewhere.`);
    this.name = 'DataDirLockedError';
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Directories this process holds: a second open from the same process is as unsafe as one from another. */
const heldByThisProcess = new Set<string>();

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'carebridge.lock');
  if (heldByThisProcess.has(path)) throw new DataDirLockedError(dir, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldByThisProcess.add(path);
      let released = false;
      return {
        release(): void {
          if (released) return;
          released = true;
          heldByThisProcess.delete(path);
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      // Our own pid in a lock we don't hold is a lock from an earlier life of this pid (a container's
      // pid 1 after a restart): stale like any other.
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processExists(owner)) {
        throw new DataDirLockedError(dir, owner);
      }
      // Stale lock: its owner is gone. Remove it and try once more (the 'wx' open stays atomic).
      unlinkSync(path);
    }
  }
  throw new Error(`Could not lock the data directory ${dir}`);
}
