// Messages of the producer panel (webview/producer <-> src/extension/panels/producerPanel.ts).

import { command, notification, request } from './ipc';

export const PRODUCER_PANEL = 'producer';

export type AcksSetting = '0' | '1' | 'all';
export type CompressionSetting = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSIONS: readonly CompressionSetting[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface HeaderRow {
  name: string;
  value: string;
}

/** Everything the form says; also what "recent messages" keep, so a re-send is the same request again. */
export interface ProduceForm {
  key: string;
  /** Empty key means no key (null), not an empty key. */
  value: string;
  /** 'json': the (expanded) value must parse as JSON before anything is sent. */
  valueFormat: 'text' | 'json';
  /** A null value (a tombstone) instead of `value`. */
  nullValue?: boolean;
  headers: HeaderRow[];
  partition: 'auto' | number;
  acks: AcksSetting;
  compression: CompressionSetting;
  /** Records to send, 1 or more; {{i}} etc. are expanded per record in key, value and header values. */
  count: number;
}

export interface CompressionChoice {
  name: CompressionSetting;
  available: boolean;
  /** Why it cannot be chosen, when it cannot. */
  reason?: string;
}

export interface RecentMessage {
  /** When it was last sent, ms since the epoch. */
  time: number;
  form: ProduceForm;
}

export interface ProducerInit {
  clusterLabel: string;
  topic: string;
  /** Partition ids of the topic. */
  partitions: number[];
  /** The partition the panel was opened on (from a partition's context menu). */
  initialPartition?: number;
  compressions: CompressionChoice[];
  recent: RecentMessage[];
  maxCount: number;
  /** A run still going (the page was hidden and shown again meanwhile). */
  running?: ProduceProgress;
  /** The last finished run, so a page that comes back shows its results. */
  lastSummary?: ProduceSummary;
}

export interface SendResult {
  /** 0-based index within the run. */
  index: number;
  partition: number;
  /** null: unknown (acks=0) or failed. */
  offset: string | null;
  /** The failure in words. */
  error?: string;
}

export interface ProduceSummary {
  runId: number;
  topic: string;
  requested: number;
  sent: number;
  failed: number;
  cancelled: boolean;
  durationMs: number;
  /** At most RESULT_LIMIT results: the first ones, then the last ones, then every failure up to the limit. */
  results: SendResult[];
  /** Results not listed in `results`. */
  omitted: number;
  /** Lowest and highest offset written per partition, for "open a tail here". */
  ranges: Array<{ partition: number; first: string; last: string }>;
  /** When the run started (ms since the epoch); a tail from this time shows the run on every partition. */
  startedAt: number;
  /** The first error in words, if any record failed. */
  error?: string;
}

export const RESULT_LIMIT = 200;

export interface ProduceProgress {
  runId: number;
  sent: number;
  failed: number;
  total: number;
}

export const ProducerInitRequest = request<void, ProducerInit>('producer/init');
/** Validates and sends; resolves when the whole run is done or cancelled. Progress arrives meanwhile. */
export const ProduceRequest = request<{ runId: number; form: ProduceForm }, ProduceSummary>('producer/produce');
export const ProduceProgressNotification = notification<ProduceProgress>('producer/progress');
/** Every finished run, also when the page that started it is gone (hidden and shown again). */
export const ProduceDoneNotification = notification<ProduceSummary>('producer/done');
export const CancelProduceCommand = command<{ runId: number }>('producer/cancel');
/** Opens a topic tail at what a run produced: one partition from its first offset, several from the run's start time. */
export const OpenTailCommand = command<{ partitions: number[]; offset?: string; timestamp?: number }>('producer/openTail');
export const ForgetRecentCommand = command<{ time: number }>('producer/forgetRecent');
export const RecentChangedNotification = notification<RecentMessage[]>('producer/recent');

/** Problems with a form before anything is sent (shared so the page and the host say the same words). */
export function validateForm(form: ProduceForm, partitions: number[], maxCount: number): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(form.count) || form.count < 1) problems.push('count must be a whole number of at least 1');
  else if (form.count > maxCount) problems.push(`count must be at most ${maxCount}`);
  if (form.partition !== 'auto' && !partitions.includes(form.partition)) {
    problems.push(`partition ${form.partition} does not exist (the topic has ${partitions.length})`);
  }
  const names = new Set<string>();
  for (const h of form.headers) {
    if (h.name === '') problems.push('every header needs a name');
    else if (names.has(h.name)) problems.push(`header '${h.name}' appears twice (one value per name is sent)`);
    names.add(h.name);
  }
  if (!['0', '1', 'all'].includes(form.acks)) problems.push(`acks must be 0, 1 or all`);
  if (!COMPRESSIONS.includes(form.compression)) problems.push(`unknown compression ${form.compression}`);
  return problems;
}
