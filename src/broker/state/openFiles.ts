// A cap on the segment .log files a broker process keeps open (Kafka leans on a large ulimit -n instead; a developer
// machine's default of 1,024 to 20,000 is far below the 10,000 partitions a cluster here may hold). Each open segment
// file is registered with its holder; past the cap, the least recently used holder closes its file and reopens it
// on its next read or append. Running out of descriptors anyway (sockets, other files: EMFILE) closes half of the
// cached files, keeps the budget there, and tries once more. The budget is a quarter of the soft `ulimit -n` unless
// broker config `minikafka.log.open.files.max` says otherwise (read at broker start).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** What owns a cached descriptor: asked to close it when evicted (it must then call OpenFileCache.forget). */
export interface CachedFileHolder {
  releaseFile(): void;
}

/** Broker config overriding the budget. */
export const OPEN_FILES_MAX_CONFIG = 'minikafka.log.open.files.max';

/** Below this many the cache would thrash on the few segments one request touches. */
const MIN_BUDGET = 8;
/** When the limit cannot be read (no `sh`, as on Windows). */
const UNKNOWN_LIMIT_BUDGET = 1024;

export function isOutOfDescriptors(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

export class OpenFileCache {
  /** Holders with an open descriptor, least recently used first (a Map keeps insertion order). */
  private readonly holders = new Map<CachedFileHolder, number>();
  /** Files closed to stay under the budget or after EMFILE (diagnostics, tests). */
  evictions = 0;

  constructor(
    private budget: number,
    /** fs.openSync; tests put EMFILE in its way. */
    private readonly openFile: (file: string, flags: string | number, mode?: number) => number = fs.openSync,
  ) {}

  get max(): number {
    return this.budget;
  }

  get size(): number {
    return this.holders.size;
  }

  setMax(budget: number): void {
    this.budget = Math.max(1, budget);
    this.evictDownTo(this.budget);
  }

  /** Opens `file` for `holder`, closing least recently used files first to make room. */
  open(holder: CachedFileHolder, file: string, flags: string | number, mode?: number): number {
    this.holders.delete(holder);
    this.evictDownTo(this.budget - 1);
    const fd = this.openTransient(file, flags, mode);
    this.holders.set(holder, fd);
    return fd;
  }

  /** The holder used its descriptor: it becomes the most recently used. */
  touch(holder: CachedFileHolder): void {
    const fd = this.holders.get(holder);
    if (fd === undefined) return;
    this.holders.delete(holder);
    this.holders.set(holder, fd);
  }

  /** The holder closed its descriptor. */
  forget(holder: CachedFileHolder): void {
    this.holders.delete(holder);
  }

  /**
   * Opens a file the caller closes itself soon (index writes): not counted, but on EMFILE half of the cached files
   * are closed and the open is tried once more. The budget comes down to what is left: the process has fewer
   * descriptors than the budget assumed (a lowered limit, many sockets), and growing back would hit the limit again
   * in opens that have no such retry (checkpoints, sockets).
   */
  openTransient(file: string, flags: string | number, mode?: number): number {
    try {
      return this.openFile(file, flags, mode);
    } catch (err) {
      if (!isOutOfDescriptors(err) || this.holders.size === 0) throw err;
      this.budget = Math.max(1, Math.floor(this.holders.size / 2));
      this.evictDownTo(this.budget);
      return this.openFile(file, flags, mode);
    }
  }

  private evictDownTo(count: number): void {
    while (this.holders.size > Math.max(0, count)) {
      const oldest = this.holders.keys().next().value as CachedFileHolder;
      this.holders.delete(oldest);
      this.evictions++;
      oldest.releaseFile();
    }
  }
}

/** The soft limit on open files of this process (`ulimit -Sn`), Infinity when unlimited, null when unknown. */
export function softOpenFileLimit(): number | null {
  if (process.platform === 'win32') return null;
  // Linux says it in /proc (no process to start on a broker's start); elsewhere a shell's ulimit reads the limit it
  // inherited from this process.
  let text = '';
  try {
    text = /^Max open files\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '';
  } catch {
    const result = spawnSync('sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8', timeout: 5000 });
    text = result.status === 0 ? result.stdout.trim() : '';
  }
  if (text === 'unlimited') return Infinity;
  const limit = Number(text);
  return text !== '' && Number.isInteger(limit) && limit > 0 ? limit : null;
}

/** The budget for a broker: its config's `minikafka.log.open.files.max` if set, else a quarter of the soft limit. */
export function openLogFilesBudget(config: Record<string, string | undefined>, limit: () => number | null = softOpenFileLimit): number {
  const configured = config[OPEN_FILES_MAX_CONFIG];
  if (configured !== undefined && configured.trim() !== '') {
    const n = Number(configured);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${OPEN_FILES_MAX_CONFIG} must be a positive integer, got ${configured}`);
    return n;
  }
  const soft = limit();
  if (soft === null) return UNKNOWN_LIMIT_BUDGET;
  return Math.max(MIN_BUDGET, Math.floor(soft / 4));
}

/** The process's cache of segment files: one per process (a broker process, or the brokers of a test). */
export const openLogFiles = new OpenFileCache(UNKNOWN_LIMIT_BUDGET);
