// Small text files that must never be seen half-written (leader-epoch-checkpoint, offsets checkpoint):
// written to a temporary file, fsynced, then renamed over the old one, so a crash leaves either the old or the new.
// Their descriptors come through the open-file cache (openFiles.ts): these writes are on the append path (a new
// leader epoch, a roll), and EMFILE there must close cached segment files and retry, not fail the append.

import * as fs from 'node:fs';
import { openLogFiles } from './openFiles';

export const TMP_SUFFIX = '.tmp';

/** `fsync: false` for files whose loss or staleness only costs a rebuild at the next open. */
export function writeFileAtomically(filePath: string, content: string | Buffer, { fsync = true } = {}): void {
  const tmp = filePath + TMP_SUFFIX;
  const fd = openLogFiles.openTransient(tmp, 'w');
  try {
    try {
      fs.writeFileSync(fd, content);
      if (fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    // Disk full: leave no partial temporary file behind, and say which file could not be written.
    unlinkIfExists(tmp);
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.path === undefined) e.path = tmp;
    throw err;
  }
  fs.renameSync(tmp, filePath);
}

/** The file's text, or null when it does not exist. */
export function readTextIfExists(filePath: string): string | null {
  try {
    return fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function unlinkIfExists(filePath: string): void {
  try {
    fs.unlinkSync(filePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** fsync a directory so that file creations and renames in it survive a power loss. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openLogFiles.openTransient(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync directories; the data files themselves are still synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
