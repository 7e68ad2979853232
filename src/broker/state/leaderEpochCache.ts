// Leader epoch -> start offset history of one replica (Kafka's LeaderEpochFileCache), used to answer
// OffsetForLeaderEpoch and to find where a follower's log diverges from the leader's.
// Persisted in `leader-epoch-checkpoint` in Kafka's text format: a version line (0), an entry count line,
// then one "epoch startOffset" line per entry. Every change is written at once (a kill -9 finds it in the page cache)
// but fsynced only with the log (sync(), from PartitionLog.flush): the write happens at the first append of a new
// epoch, on the leader and on each follower, and an fsync there (10-16 ms on a loaded disk) sat on the path of the
// first acks=all write after a failover. The batches of that epoch are not fsynced either (Kafka's default, no flush
// per append), and a power loss that keeps them but loses the entry is caught at the next open: the log's last batch
// names a newer epoch than the file, and the file is rebuilt from batch headers (PartitionLog.loadLeaderEpochs).

import { readTextIfExists, writeFileAtomically } from './checkpointFile';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

const CHECKPOINT_VERSION = 0;

export class LeaderEpochCache {
  /** An entry assign(…, false) has not written yet (see writePending). */
  private unwritten = false;
  /** Written since the last fsync (see sync). */
  private unsynced = false;
  /** Ordered by epoch; start offsets also increase. */
  private epochs: EpochEntry[] = [];

  constructor(
    private readonly checkpointPath: string,
    private readonly logEndOffset: () => number,
  ) {}

  /** Reads the checkpoint. Returns false (and stays empty) when the file is missing or unreadable. */
  load(): boolean {
    const text = readTextIfExists(this.checkpointPath);
    if (text === null) return false;
    const parsed = parseCheckpoint(text);
    if (parsed === null) return false;
    this.epochs = parsed;
    return true;
  }

  latestEpoch(): number {
    return this.epochs.length === 0 ? UNDEFINED_EPOCH : this.epochs[this.epochs.length - 1].epoch;
  }

  /** Start offset of `epoch`, or -1 when the epoch is unknown. */
  startOffset(epoch: number): number {
    const entry = this.epochs.find((e) => e.epoch === epoch);
    return entry === undefined ? UNDEFINED_EPOCH_OFFSET : entry.startOffset;
  }

  entries(): EpochEntry[] {
    return this.epochs.map((e) => ({ ...e }));
  }

  /**
   * End offset of `requestedEpoch` as OffsetForLeaderEpoch defines it: the largest known epoch <= requested and the
   * start offset of the epoch after it (LEO for the latest epoch). As in Kafka, an epoch older than every known one
   * answers (requestedEpoch, start of the first known epoch), and an unknown/undefined or too-new epoch (-1, -1).
   */
  endOffsetFor(requestedEpoch: number): { epoch: number; endOffset: number } {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH || this.epochs.length === 0) return undefinedAnswer;
    if (requestedEpoch === this.latestEpoch()) return { epoch: requestedEpoch, endOffset: this.logEndOffset() };
    const higher = this.epochs.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return undefinedAnswer;
    const nextStart = this.epochs[higher].startOffset;
    if (higher === 0) return { epoch: requestedEpoch, endOffset: nextStart };
    return { epoch: this.epochs[higher - 1].epoch, endOffset: nextStart };
  }

  /**
   * Records that `epoch` starts at `startOffset`. A repeat of the latest epoch is ignored. Entries that contradict
   * the new one (same or later epoch, same or later start) are dropped first, as Kafka does.
   */
  assign(epoch: number, startOffset: number, write = true): void {
    if (epoch < 0 || startOffset < 0) return;
    const latest = this.epochs[this.epochs.length - 1];
    if (latest !== undefined && latest.epoch === epoch && latest.startOffset <= startOffset) return;
    const previous = this.epochs;
    this.epochs = this.epochs.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.epochs.push({ epoch, startOffset });
    if (!write) {
      this.unwritten = true;
      return;
    }
    try {
      this.persist();
    } catch (err) {
      // Not on disk (disk full): forget it in memory too, so that the next append assigns and persists it again.
      this.epochs = previous;
      throw err;
    }
  }

  /**
   * Drops epochs that start at or after `endOffset`. `persist: false` at load: entries past the log end are cut at
   * every load anyway, so the file need not be rewritten (and fsynced) for them; the next change writes it whole.
   */
  truncateFromEnd(endOffset: number, persist = true): void {
    const kept = this.epochs.filter((e) => e.startOffset < endOffset);
    if (kept.length === this.epochs.length) return;
    this.epochs = kept;
    if (persist) this.persist();
  }

  /** The log now starts at `startOffset`: drop epochs entirely before it; the one covering it now starts there. */
  truncateFromStart(startOffset: number): void {
    let covering = -1;
    for (let i = 0; i < this.epochs.length && this.epochs[i].startOffset <= startOffset; i++) covering = i;
    if (covering < 0 || (covering === 0 && this.epochs[0].startOffset === startOffset)) return;
    const first = { epoch: this.epochs[covering].epoch, startOffset };
    this.epochs = [first, ...this.epochs.slice(covering + 1)];
    this.persist();
  }

  clear(): void {
    this.epochs = [];
    this.persist();
  }

  /** Replaces the whole history (rebuild from the log when the checkpoint was lost). */
  replaceAll(entries: EpochEntry[]): void {
    this.epochs = entries.map((e) => ({ ...e }));
    this.persist();
  }

  /**
   * Writes an entry that assign(…, false) kept in memory only: called before a batch is appended. A new leader
   * assigns its epoch at the log end; until a batch follows, the entry is worth nothing on disk (the next load cuts
   * entries at or past the log end), so a broker taking the leadership of a thousand idle partitions at once does
   * not write and fsync a thousand files on its only thread.
   */
  writePending(): void {
    if (this.unwritten) this.persist();
  }

  /** fsyncs the file if it changed since the last fsync (with the log's own flush: roll, flush, close). */
  sync(): void {
    if (this.unsynced) this.persist(true);
  }

  private persist(fsync = false): void {
    const lines = [String(CHECKPOINT_VERSION), String(this.epochs.length), ...this.epochs.map((e) => `${e.epoch} ${e.startOffset}`)];
    writeFileAtomically(this.checkpointPath, lines.join('\n') + '\n', { fsync });
    this.unwritten = false;
    this.unsynced = !fsync;
  }
}

function parseCheckpoint(text: string): EpochEntry[] | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2 || Number(lines[0]) !== CHECKPOINT_VERSION) return null;
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) return null;
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const parts = line.trim().split(/\s+/).map(Number);
    if (parts.length !== 2 || !parts.every((n) => Number.isSafeInteger(n) && n >= 0)) return null;
    const prev = entries[entries.length - 1];
    if (prev !== undefined && (parts[0] <= prev.epoch || parts[1] < prev.startOffset)) return null;
    entries.push({ epoch: parts[0], startOffset: parts[1] });
  }
  return entries;
}
