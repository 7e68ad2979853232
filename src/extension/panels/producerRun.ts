// One "Send" of the producer panel: expand the template for each of N records, validate JSON, send in chunks
// with progress and cancellation between chunks, and summarise partition/offset per record. No vscode here.

import { randomUUID } from 'node:crypto';
import { describeConnectionError } from '../../client/connection';
import type { Acks, CompressionName, DeliveryReport, OutgoingRecord } from '../../client/producer';
import { ProduceForm, ProduceProgress, ProduceSummary, RESULT_LIMIT, SendResult, validateForm } from '../../shared/producerProtocol';
import { expandTemplate, jsonError, unknownVariables } from '../../shared/template';

/** What a run needs from a producer (RecordProducer in the panel, a fake in unit tests). */
export interface RecordSender {
  send(topic: string, records: OutgoingRecord[]): Promise<DeliveryReport[]>;
}

export interface RunOptions {
  runId: number;
  topic: string;
  partitions: number[];
  maxCount: number;
  sender: RecordSender;
  /** Records per request. */
  chunkSize?: number;
  onProgress?(p: ProduceProgress): void;
  isCancelled?(): boolean;
  bootstrapServers?: string[];
}

export function acksOf(form: ProduceForm): Acks {
  return form.acks === 'all' ? -1 : form.acks === '1' ? 1 : 0;
}

export function compressionOf(form: ProduceForm): CompressionName {
  return form.compression;
}

/** Problems that stop a run before anything is sent (form checks, JSON of the expanded values). */
export function formProblems(form: ProduceForm, partitions: number[], maxCount: number): string[] {
  const problems = validateForm(form, partitions, maxCount);
  const unknown = [form.key, form.value, ...form.headers.map((h) => h.value)].flatMap(unknownVariables);
  if (unknown.length > 0) problems.push(`unknown template variable${unknown.length > 1 ? 's' : ''}: ${[...new Set(unknown)].map((u) => `{{${u}}}`).join(', ')}`);
  return problems;
}

export function buildRecord(form: ProduceForm, i: number, count: number, now: number): OutgoingRecord {
  const ctx = { i, count, now, uuid: randomUUID };
  const record: OutgoingRecord = {
    key: form.key === '' ? null : expandTemplate(form.key, ctx),
    value: form.nullValue ? null : expandTemplate(form.value, ctx),
  };
  if (form.headers.length > 0) record.headers = Object.fromEntries(form.headers.map((h) => [h.name, expandTemplate(h.value, ctx)]));
  if (form.partition !== 'auto') record.partition = form.partition;
  return record;
}

export async function runProduce(form: ProduceForm, opts: RunOptions): Promise<ProduceSummary> {
  const startedAt = Date.now();
  const problems = formProblems(form, opts.partitions, opts.maxCount);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const total = form.count;
  const chunkSize = Math.max(1, opts.chunkSize ?? 500);
  const results: SendResult[] = [];
  const keepFirst = Math.floor(RESULT_LIMIT / 2);
  const tail: SendResult[] = [];
  const ranges = new Map<number, { first: bigint; last: bigint }>();
  let sent = 0;
  let failed = 0;
  let firstError: string | undefined;
  let cancelled = false;
  let lastProgress = 0;

  const note = (r: SendResult) => {
    if (r.error !== undefined) {
      failed++;
      // Failures are always listed (up to the limit), successes only at the start and the end.
      if (results.length < RESULT_LIMIT) results.push(r);
      return;
    }
    sent++;
    if (r.offset !== null) {
      const o = BigInt(r.offset);
      const range = ranges.get(r.partition);
      if (!range) ranges.set(r.partition, { first: o, last: o });
      else {
        if (o < range.first) range.first = o;
        if (o > range.last) range.last = o;
      }
    }
    if (results.length < keepFirst) results.push(r);
    else {
      tail.push(r);
      if (tail.length > RESULT_LIMIT - keepFirst) tail.shift();
    }
  };

  for (let start = 0; start < total; start += chunkSize) {
    if (opts.isCancelled?.()) {
      cancelled = true;
      break;
    }
    const end = Math.min(total, start + chunkSize);
    const records: OutgoingRecord[] = [];
    for (let i = start; i < end; i++) {
      const record = buildRecord(form, i, total, Date.now());
      if (form.valueFormat === 'json' && record.value !== null) {
        const bad = jsonError(String(record.value));
        if (bad !== null) throw new Error(`the value of record ${i} is not JSON: ${bad}${sent > 0 ? ` (${sent} records were sent before it)` : ''}`);
      }
      records.push(record);
    }
    try {
      const reports = await opts.sender.send(opts.topic, records);
      reports.forEach((rep, k) => note({ index: start + k, partition: rep.partition, offset: rep.offset }));
    } catch (err) {
      firstError = describeConnectionError(err, opts.bootstrapServers);
      for (let i = start; i < end; i++) note({ index: i, partition: records[i - start].partition ?? -1, offset: null, error: firstError });
      // A failing cluster fails the next chunk the same way, after the same timeouts: stop here.
      break;
    }
    if (Date.now() - lastProgress > 100 || end === total) {
      lastProgress = Date.now();
      opts.onProgress?.({ runId: opts.runId, sent, failed, total });
    }
  }

  const listed = [...results, ...tail].sort((a, b) => a.index - b.index);
  const summary: ProduceSummary = {
    runId: opts.runId,
    topic: opts.topic,
    requested: total,
    sent,
    failed,
    cancelled,
    durationMs: Date.now() - startedAt,
    results: listed,
    omitted: sent + failed - listed.length,
    ranges: [...ranges].sort((a, b) => a[0] - b[0]).map(([partition, r]) => ({ partition, first: r.first.toString(), last: r.last.toString() })),
    startedAt,
  };
  if (firstError !== undefined) summary.error = firstError;
  opts.onProgress?.({ runId: opts.runId, sent, failed, total });
  return summary;
}
