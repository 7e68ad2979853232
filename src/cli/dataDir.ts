// `minikafka start` checks its data directory before anything else: a directory it cannot create or write (a path
// under /proc, a read-only file system, a file in the way) is one line on stderr and exit code 1, not a stack trace
// from deep inside the first broker.

import { closeSync, existsSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeStorageError } from '../broker/storageFaults';
import { CliError } from './errors';

/** Named per process: two starts racing on one dir must not unlink each other's probe (ENOENT for the loser). */
const probeFileName = (): string => `.minikafka-write-test-${process.pid}`;

/**
 * mkdir -p, one level at a time. Node's mkdirSync(..., { recursive: true }) never returns for a path such as /proc/x
 * (mkdir answers ENOENT although the parent exists, and Node retries forever).
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing) mkdirSync(d);
}

/** Creates `dir` if needed and proves a file can be written in it; throws a CliError that says why not. */
export function ensureWritableDataDir(dir: string): void {
  const fail = (err: unknown): never => {
    throw new CliError(`cannot use data directory ${dir}: ${describeStorageError(err)}`);
  };
  try {
    makeDirectories(dir);
  } catch (err) {
    // mkdir -p fails with EEXIST when a file is in the way: what the user needs to hear is "not a directory".
    fail((err as NodeJS.ErrnoException).code === 'EEXIST' ? { code: 'ENOTDIR', message: 'not a directory' } : err);
  }
  if (!statSync(dir).isDirectory()) fail({ code: 'ENOTDIR', message: 'not a directory' });
  const probe = join(dir, probeFileName());
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'minikafka\n');
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (err) {
    fail(err);
  }
}
