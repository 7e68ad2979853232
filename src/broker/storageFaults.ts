// Failed writes to a partition's log (disk full, I/O error, read-only or over-quota file system), told once.
//
// Kafka marks the log directory offline on such a failure: its partitions go offline on that broker, and a broker
// whose only log directory failed halts ("Shutdown broker because all log dirs in ... have failed"), so leadership
// moves through the controller. The producer whose write failed gets KAFKA_STORAGE_ERROR. minikafka is a developer
// tool on one disk, where halting every broker at once helps nobody: it keeps serving, refuses each failed write with
// KAFKA_STORAGE_ERROR (the log is rolled back to its last whole batch, so nothing acknowledged is touched), logs ONE
// warning per partition instead of a stack trace per write, and one info line when writes work again (space freed).

import type { Logger } from './logger';

/** errno codes that mean "this file system cannot take the write", with the words operators know them by. */
const STORAGE_ERRNO: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** The errno code when `err` is a storage failure (see STORAGE_ERRNO), else null. */
export function storageErrorCode(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code in STORAGE_ERRNO ? code : null;
}

/** Other errno codes a file path can meet, in words. */
const PATH_ERRNO: Record<string, string> = {
  ...STORAGE_ERRNO,
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
};

/** "no space left on device (ENOSPC)"; the error's own message for anything else. */
export function describeStorageError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code in PATH_ERRNO ? `${PATH_ERRNO[code]} (${code})` : (err as Error).message;
}

/** What the operator must do for the writes to work again. */
function remedy(code: string | null): string {
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return 'space is freed';
  return 'the directory is writable again';
}

export type ReplicaRole = 'leader' | 'follower';

interface Failure {
  role: ReplicaRole;
  code: string | null;
  /** The replica's log end offset when the write failed: a larger one means a later write succeeded. */
  logEndOffset: number;
}

export class StorageFaults {
  private readonly failing = new Map<string, Failure>();

  constructor(private readonly logger: Logger) {}

  /**
   * A write to partition `key`'s log in `dir` failed. Warns once per partition (again only after a recovery) and
   * returns the sentence a producer gets with KAFKA_STORAGE_ERROR.
   */
  failed(key: string, dir: string, err: unknown, role: ReplicaRole, logEndOffset: number): string {
    const code = storageErrorCode(err);
    const message = `cannot write ${key} in ${dir}: ${describeStorageError(err)}`;
    const known = this.failing.get(key);
    if (!known || known.role !== role || known.code !== code) {
      const consequence =
        role === 'leader'
          ? `producers get KAFKA_STORAGE_ERROR until ${remedy(code)}`
          : `this replica stops following the leader until ${remedy(code)} (retried every few seconds)`;
      this.logger.warn(`${message}; ${consequence}`);
    }
    this.failing.set(key, { role, code, logEndOffset: known?.logEndOffset ?? logEndOffset });
    return message;
  }

  /** A write to `key` succeeded: if it had failed before, say so once. */
  succeeded(key: string): void {
    const failure = this.failing.get(key);
    if (!failure) return;
    this.failing.delete(key);
    this.logger.info(`${key}: writes work again${failure.role === 'follower' ? '; replication resumed' : ''}`);
  }

  /** For replicas whose writes are not seen one by one (followers): a log end offset past the failed one is a success. */
  noteLogEndOffset(key: string, logEndOffset: number): void {
    const failure = this.failing.get(key);
    if (failure && logEndOffset > failure.logEndOffset) this.succeeded(key);
  }

  isFailing(key: string): boolean {
    return this.failing.has(key);
  }

  /** The partition is gone from this broker (deleted, reassigned): forget it silently. */
  forget(key: string): void {
    this.failing.delete(key);
  }
}
