// Messages of the topic tail panel (webview/tail <-> src/extension/panels/tailPanel.ts).
//
// The host reads the topic, turns records into TailRows, keeps the last `bufferSize` of them in a ring, and
// every BATCH_INTERVAL_MS posts the rows the page has not seen yet (never more than the ring holds). The page
// keeps at most `bufferSize` rows too and renders only the visible ones, so memory stays flat on both sides
// however fast the topic is. When the page comes back (hidden and shown again), it asks for the ring (TailSync).

import { command, notification, request } from './ipc';

export const TAIL_PANEL = 'tail';
export const BATCH_INTERVAL_MS = 100;
export const DEFAULT_TAIL_BUFFER = 10000;
/** Keys, values and header values longer than this (in characters) are cut for display and export. */
export const MAX_FIELD_CHARS = 16 * 1024;

export type TailStart =
  | { kind: 'latest' }
  | { kind: 'earliest' }
  | { kind: 'timestamp'; timestamp: number }
  | { kind: 'offset'; offset: string };

export interface TailConfig {
  start: TailStart;
  /** undefined: all partitions. */
  partitions?: number[];
  /** Read as a member of this consumer group (commits offsets). undefined: no group, nothing left on the cluster. */
  groupId?: string;
  /**
   * undefined = read_committed (what consumers do by default): records up to the last stable offset, aborted ones
   * left out. read_uncommitted: up to the high watermark, open and aborted transactions' records included.
   */
  isolation?: 'read_committed' | 'read_uncommitted';
}

/** What became of a transaction's records on one partition: applied to the rows already shown. */
export interface TxnOutcome {
  partition: number;
  producerId: string;
  outcome: 'committed' | 'aborted';
  /** The marker's offset: the producer's open rows before it take the outcome. */
  markerOffset: string;
}

/** One record as the page shows it. Text fields are cut at MAX_FIELD_CHARS; binary data is shown as hex. */
export interface TailRow {
  /** Position in the panel's stream (monotonic for the panel's lifetime); the page de-duplicates by it. */
  seq: number;
  partition: number;
  offset: string;
  /** ms since the epoch, decimal string. */
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Array<[string, string]>;
  /** Set when the key / value is not UTF-8 text and is shown as hex. */
  keyBinary?: boolean;
  valueBinary?: boolean;
  /** Set when the value was cut; the value's size in bytes. */
  valueTruncatedFrom?: number;
  /** Set when the value parses as JSON (an object or array): the page offers a pretty view. */
  json?: boolean;
  /** A transaction marker (control record) at this offset; key and value are null. */
  control?: 'COMMIT' | 'ABORT';
  /**
   * A record written in a transaction (and every marker): its producer, and what is known of the transaction.
   * read_committed shows only committed ones; read_uncommitted shows 'open' until the marker arrives.
   */
  txn?: { producerId: string; state: 'open' | 'committed' | 'aborted' };
}

export type TailState = 'starting' | 'live' | 'paused' | 'stopped' | 'error';

export interface TailStatus {
  state: TailState;
  /** The failure in words, in state 'error'. */
  error?: string;
  /** Records per second over the last second. */
  rate: number;
  /** Records received since the tail (re)started. */
  received: number;
  /** Records that left the ring before the page saw them (the page was hidden, or slower than the topic). */
  skipped: number;
}

export interface TailSyncResult {
  clusterLabel: string;
  topic: string;
  /** The topic's partition ids. */
  allPartitions: number[];
  config: TailConfig;
  bufferSize: number;
  status: TailStatus;
  /** The ring as it is now, oldest first. */
  rows: TailRow[];
}

export interface TailBatch {
  rows: TailRow[];
  status: TailStatus;
  /** Markers seen since the last batch (after these rows): rows shown earlier change from open to their outcome. */
  outcomes?: TxnOutcome[];
}

/** Sets the outcome on the rows it concerns (open rows of the producer on the partition, before the marker). */
export function applyOutcome(rows: Iterable<TailRow>, o: TxnOutcome): number {
  const marker = BigInt(o.markerOffset);
  let n = 0;
  for (const r of rows) {
    if (r.txn?.state === 'open' && r.partition === o.partition && r.txn.producerId === o.producerId && BigInt(r.offset) < marker) {
      r.txn.state = o.outcome;
      n++;
    }
  }
  return n;
}

export interface ExportRequest {
  format: 'json' | 'csv';
  /** The page's filter text: the export holds what the page shows. */
  filter: string;
  partitions?: number[];
}

export const TailSyncRequest = request<void, TailSyncResult>('tail/sync');
/** Starts over with a new configuration (start position, partitions, group); the page gets a TailReset. */
export const TailRestartRequest = request<TailConfig, void>('tail/restart');
export const TailPauseRequest = request<{ paused: boolean }, void>('tail/pause');
export const TailClearCommand = command<void>('tail/clear');
export const TailExportRequest = request<ExportRequest, { path: string | null; count: number }>('tail/export');
export const TailBatchNotification = notification<TailBatch>('tail/batch');
export const TailStatusNotification = notification<TailStatus>('tail/status');
/** The host dropped its rows (restart or clear): the page drops its own and takes the new configuration. */
export const TailResetNotification = notification<{ config: TailConfig; status: TailStatus }>('tail/reset');

/** Case-insensitive text search over key, value, header names and values, partition:offset. Shared by page and export. */
export function rowMatches(row: TailRow, needle: string): boolean {
  if (needle === '') return true;
  const n = needle.toLowerCase();
  if (row.value !== null && row.value.toLowerCase().includes(n)) return true;
  if (row.key !== null && row.key.toLowerCase().includes(n)) return true;
  for (const [name, value] of row.headers) if (name.toLowerCase().includes(n) || value.toLowerCase().includes(n)) return true;
  if (row.control && `${row.control} marker`.toLowerCase().includes(n)) return true;
  if (row.txn && row.txn.state.includes(n)) return true;
  return `${row.partition}:${row.offset}` === n;
}

export function describeStart(start: TailStart): string {
  switch (start.kind) {
    case 'latest':
      return 'from the end (new records only)';
    case 'earliest':
      return 'from the beginning';
    case 'timestamp':
      return `from ${new Date(start.timestamp).toISOString()}`;
    case 'offset':
      return `from offset ${start.offset}`;
  }
}
