// The broker's log cleaner (Kafka's LogCleaner + LogCleanerManager, one "thread"): compacts the partition logs of
// topics whose cleanup.policy includes `compact`, one log at a time, the dirtiest first. Each replica cleans its
// own log (leaders and followers alike, as in Kafka); how far each log is cleaned is kept in
// `<logdir>/cleaner-offset-checkpoint` (Kafka's format: version, count, then `topic partition offset` lines).
//
// Cheap when idle: a log is looked at only if bytes were appended to it since its last cleaning, or if a delete
// horizon it stamped has passed; nothing is read from disk to decide.

import { join } from 'node:path';
import { num } from './configs';
import type { Logger } from './logger';
import type { Partition } from './partition';
import { readTextIfExists, writeFileAtomically } from './state/checkpointFile';
import type { CleanableSection, CleanResult } from './state/partitionLog';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** Keys held by one cleaning's offset map; a dirty section with more keys is cleaned in several passes. */
export const MAX_OFFSET_MAP_ENTRIES = 1_000_000;

export interface LogCleanerOptions {
  logDir: string;
  partitions: () => Iterable<Partition>;
  logger: Logger;
  now: () => number;
  /** log.cleaner.backoff.ms: the pause when no log needs cleaning. */
  backoffMs: number;
}

/** Why a log is picked, and how dirty it is (Kafka's LogToClean). */
interface Candidate {
  partition: Partition;
  section: CleanableSection;
  ratio: number;
  /** max.compaction.lag.ms exceeded or a delete horizon passed: cleaned whatever the ratio. */
  urgent: boolean;
}

export function isCompacted(config: Record<string, string>): boolean {
  return (config['cleanup.policy'] ?? '').split(',').map((s) => s.trim()).includes('compact');
}

export class LogCleaner {
  private readonly checkpoints = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly opts: LogCleanerOptions) {
    this.readCheckpoint();
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.opts.backoffMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** How far the log of `key` (`topic-partition`) is cleaned (0 when never). */
  cleanedUpTo(key: string): number {
    return this.checkpoints.get(key) ?? 0;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.cleanDirtiest().then((result) => {
        // Like Kafka's cleaner thread: straight on to the next log while there is work, else back off.
        this.schedule(result !== null && result.segmentsCleaned > 0 ? 0 : this.opts.backoffMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Cleans the log that most needs it, if any; returns what was done (tests call it directly). */
  async cleanDirtiest(): Promise<(CleanResult & { key: string }) | null> {
    const candidate = this.dirtiest();
    if (candidate === null) return null;
    const p = candidate.partition;
    const config = p.config;
    try {
      const result = await p.log.clean(this.cleanedUpTo(p.key), {
        deleteRetentionMs: num(config, 'delete.retention.ms'),
        minCompactionLagMs: num(config, 'min.compaction.lag.ms'),
        maxMapEntries: MAX_OFFSET_MAP_ENTRIES,
      });
      if (this.stopped) return null; // the broker stopped meanwhile: its logs are closed, the pass claimed nothing
      this.checkpoints.set(p.key, result.cleanedUpTo);
      this.writeCheckpoint();
      return { ...result, key: p.key };
    } catch (err) {
      // Kafka marks the partition uncleanable and carries on with the others; here it is tried again once more is
      // written to it (not at every look, which would fail the same way).
      this.opts.logger.error(`cleaning ${p.key} failed: ${(err as Error).stack ?? err}`);
      p.log.bytesAppendedSinceClean = 0;
      return null;
    }
  }

  private dirtiest(): Candidate | null {
    const now = this.opts.now();
    let best: Candidate | null = null;
    for (const p of this.opts.partitions()) {
      const config = p.config;
      if (!isCompacted(config)) continue;
      const log = p.log;
      const horizonDue = log.latestDeleteHorizon >= 0 && now >= log.latestDeleteHorizon;
      if (log.bytesAppendedSinceClean === 0 && !horizonDue) continue;
      let section: CleanableSection;
      try {
        section = log.cleanableSection(this.cleanedUpTo(p.key), num(config, 'min.compaction.lag.ms'));
      } catch {
        continue; // closed meanwhile
      }
      const total = section.cleanBytes + section.dirtyBytes;
      const ratio = total === 0 ? 0 : section.dirtyBytes / total;
      const maxLag = num(config, 'max.compaction.lag.ms');
      const lagExceeded = section.dirtyBytes > 0 && section.firstDirtyTimestamp >= 0 && now - section.firstDirtyTimestamp > maxLag;
      const urgent = lagExceeded || horizonDue;
      if (!urgent && (section.dirtyBytes === 0 || ratio < Number(config['min.cleanable.dirty.ratio']))) continue;
      const better = best === null || (urgent && !best.urgent) || (urgent === best.urgent && ratio > best.ratio);
      if (better) best = { partition: p, section, ratio, urgent };
    }
    return best;
  }

  private readCheckpoint(): void {
    const text = readTextIfExists(join(this.opts.logDir, CLEANER_CHECKPOINT_FILE));
    if (text === null) return;
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines[0] !== '0' || Number(lines[1]) !== lines.length - 2) {
      this.opts.logger.warn(`${CLEANER_CHECKPOINT_FILE} is unreadable; every compacted log will be cleaned from its start`);
      return;
    }
    for (const line of lines.slice(2)) {
      const parts = line.trim().split(/\s+/);
      const offset = Number(parts[2]);
      if (parts.length === 3 && Number.isSafeInteger(offset) && offset >= 0) this.checkpoints.set(`${parts[0]}-${parts[1]}`, offset);
    }
  }

  private writeCheckpoint(): void {
    // Logs no longer on this broker (topic deleted, replica moved) are forgotten, as Kafka does.
    const hosted = new Set([...this.opts.partitions()].map((p) => p.key));
    for (const key of [...this.checkpoints.keys()]) if (!hosted.has(key)) this.checkpoints.delete(key);
    const lines = [...this.checkpoints].map(([key, offset]) => {
      const dash = key.lastIndexOf('-');
      return `${key.slice(0, dash)} ${key.slice(dash + 1)} ${offset}`;
    });
    writeFileAtomically(join(this.opts.logDir, CLEANER_CHECKPOINT_FILE), ['0', String(lines.length), ...lines].join('\n') + '\n');
  }
}
