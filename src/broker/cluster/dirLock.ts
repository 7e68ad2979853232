// An exclusive lock on a mini-cluster's data directory, held by the supervisor for its whole life: two
// `minikafka start` on the same --dir would both write the controller's metadata and both run brokers on the same
// partition logs. Node has no flock(), so the lock is a file created atomically with its content already in it
// (written to a private temp file, then hard-linked into place: link() fails with EEXIST if the lock exists, and a
// reader never sees a half-written lock). It records the holder's pid, the kernel's start time of that process (so a
// reused pid is not mistaken for the holder), the hostname and when it was taken.
//
// A lock whose holder is gone (a supervisor killed with -9) is stale and is broken by the next start. Breaking is
// itself guarded by a second, short-lived lock file, so two starts that both find the same stale lock cannot both
// take over (the second would otherwise delete the first one's fresh lock).

import { existsSync, linkSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'minikafka.lock';

export interface LockOwner {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); null where /proc is absent. */
  processStart: number | null;
  hostname: string;
  /** When the lock was taken (ms since the epoch). */
  since: number;
}

/** Another live process holds the lock. */
export class DirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `${dir} is in use by another minikafka start (pid ${owner.pid} on ${owner.hostname}, since ${new Date(owner.since).toISOString()}); ` +
        `stop it first (minikafka controller status --dir ${dir} shows it) or use another --dir`,
    );
  }
}

/** The start time of a process in clock ticks since boot, or null (no such process, or no /proc). */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a process exists and is not a zombie (killed, but its parent has not reaped it yet). */
export function processAlive(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return !existsSync('/proc/self'); // no /proc: kill(pid, 0) is all we know
  }
}

/** Whether the process that wrote `owner` still runs (same pid, same start time where /proc tells it). */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true; // another machine (a shared disk): we cannot tell, assume it runs
  if (!processAlive(owner.pid)) return false;
  const start = processStartTicks(owner.pid);
  return owner.processStart === null || start === null || start === owner.processStart;
}

export function readLockOwner(dir: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

export interface DirLock {
  readonly owner: LockOwner;
  /** Removes the lock if it is still ours. */
  release(): void;
}

/** Takes the lock on `dir` (which must exist) or throws DirLockedError naming the holder. */
export function acquireDirLock(dir: string): DirLock {
  const file = join(dir, LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, processStart: processStartTicks(process.pid), hostname: hostname(), since: Date.now() };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(owner));
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (tryLink(tmp, file)) return lockOf(file, owner);
      const holder = readLockOwner(dir);
      if (holder && ownerAlive(holder)) throw new DirLockedError(dir, holder);
      // Stale (or unreadable: written by something else): break it, but only one breaker at a time.
      breakStaleLock(dir, file, holder);
    }
    throw new Error(`could not take the lock ${file}: it keeps changing hands`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function breakStaleLock(dir: string, file: string, seen: LockOwner | null): void {
  const guard = `${file}.break`;
  const mine = `${guard}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    if (!tryLink(mine, guard)) {
      // Another start is breaking it. A guard left by a breaker that died in this tiny window is old: remove it.
      try {
        if (Date.now() - statSync(guard).mtimeMs > 5000) rmSync(guard, { force: true });
      } catch {
        /* gone meanwhile */
      }
      sleepMs(20);
      return;
    }
    try {
      const now = readLockOwner(dir);
      // Still the same stale lock we judged (nobody took over meanwhile): remove it.
      if (JSON.stringify(now) === JSON.stringify(seen)) rmSync(file, { force: true });
    } finally {
      rmSync(guard, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lockOf(file: string, owner: LockOwner): DirLock {
  return {
    owner,
    release() {
      try {
        const now = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
        if (now.pid === owner.pid && now.since === owner.since) unlinkSync(file);
      } catch {
        /* already gone */
      }
    },
  };
}
