// The controller's metadata file, written as durably as Kafka writes its metadata log: the new image goes to a
// temp file that is fsynced, the current file becomes <file>.prev, the temp file is renamed into place and the
// directory is fsynced (so the renames themselves survive a power cut). The previous copy is what a torn or
// unparseable current file falls back to; with neither readable the cluster refuses to start rather than start
// empty (an empty image would make brokers treat every partition as unknown).

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from './logger';
import type { MetadataImage } from './metadata';

export function previousCopy(file: string): string {
  return `${file}.prev`;
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to `file` durably, keeping the file's previous content in <file>.prev. */
export function writeFileDurably(file: string, text: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(file)) renameSync(file, previousCopy(file));
  renameSync(tmp, file);
  fsyncPath(dir, 'r');
}

/** Raised when neither the metadata file nor its previous copy can be read. */
export class MetadataUnreadableError extends Error {}

/**
 * Reads the image: the current file, else (missing, torn or unparseable) its previous copy with a warning.
 * Returns undefined when neither exists (a new cluster); throws MetadataUnreadableError when what exists is unreadable.
 */
export function readMetadata(file: string, logger: Logger): MetadataImage | undefined {
  const prev = previousCopy(file);
  const problems: string[] = [];
  for (const candidate of [file, prev]) {
    if (!existsSync(candidate)) continue;
    try {
      const image = JSON.parse(readFileSync(candidate, 'utf8')) as MetadataImage;
      if (typeof image?.epoch !== 'number' || !Array.isArray(image.topics) || !Array.isArray(image.brokers)) throw new Error('not a metadata image');
      if (candidate === prev) {
        logger.warn(`cluster metadata ${file} ${problems.length ? `is unreadable (${problems[0]})` : 'is missing'}: using the previous copy ${prev} (epoch ${image.epoch})`);
      }
      return image;
    } catch (err) {
      problems.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0) return undefined;
  throw new MetadataUnreadableError(
    `cannot read the cluster metadata (${problems.join('; ')}); restore ${file} or ${prev} from a backup, ` +
      'or delete the data directory to start an empty cluster',
  );
}
