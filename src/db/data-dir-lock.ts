/**
 * PGlite is single-process: two processes opening one data directory would corrupt it. This lock file
 * (`<data_dir>.lock`, created with O_EXCL, holding the owner's pid) makes a second process wait for the
 * first, up to a timeout, and then fail with an error naming the directory and the owner. A lock left
 * by a process that no longer exists (kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;
/** Lock files this process holds: a second open in the same process must wait too. */
const heldByThisProcess = new Set<string>();

/** Why a second process cannot share the data directory, and the ways out. */
const ONE_PROCESS_AT_A_TIME = 'PGlite serves one process at a time: stop it, or use PostgreSQL (BIGBROTR_DATABASE_URL) to run several';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(`the embedded database ${dataDir} is in use by another bigbrotr process (pid ${ownerPid}); ${ONE_PROCESS_AT_A_TIME}`);
    this.name = 'DataDirLockedError';
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(lockFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tryCreate(lockFile: string): boolean {
  try {
    const fd = openSync(lockFile, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

export interface DataDirLock {
  release(): void;
}

export async function lockDataDir(dataDir: string, timeoutMs: number): Promise<DataDirLock> {
  const lockFile = `${dataDir.replace(/\/+$/, '')}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (tryCreate(lockFile)) break;
    const owner = readOwner(lockFile);
    // Our pid but not our lock: left by an earlier process that had the same pid.
    const staleOwnPid = owner === process.pid && !heldByThisProcess.has(lockFile);
    if (owner === undefined || staleOwnPid || (owner !== process.pid && !processIsAlive(owner))) {
      // Stale (owner gone) or half-written: remove and retry at once.
      rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new DataDirLockedError(dataDir, owner);
    await sleep(POLL_MS);
  }
  heldByThisProcess.add(lockFile);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      heldByThisProcess.delete(lockFile);
      if (readOwner(lockFile) === process.pid) rmSync(lockFile, { force: true });
    },
  };
}
