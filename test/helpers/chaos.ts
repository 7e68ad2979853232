// The checks of the chaos test (test/cluster/chaos.test.ts), on the JSON-line events its Python driver
// (test/cluster/chaos_clients.py) printed: pure, so test/unit/chaos-check.test.ts can show on made-up event logs
// that they catch what they must (loss, duplicates, reordering, fatal errors, commits moving back, skipped
// offsets) and accept what Kafka allows (unacknowledged writes, re-delivery to the group after a rebalance,
// delivery reports that arrive during the final flush, failed commits).

export type Role = 'random' | 'most-leaders' | 'coordinator' | 'controller-broker' | 'controller-kill';

export interface ExecutedFault {
  /** When it was injected, ms since the epoch. */
  at: number;
  role: Role;
  action: 'kill' | 'pause' | 'stop' | 'controller-kill';
  broker: number;
  downMs: number;
  /** When the cluster was healthy again (full ISRs), ms since the epoch. */
  healedAt?: number;
}

export type Ev = Record<string, any>;

export interface ChaosInput {
  title: string;
  partitions: number;
  /** The test's start, ms since the epoch (times in messages are relative to it). */
  t0: number;
  /** Lines of `chaos_clients.py produce`: dr, error, retired, stopping, flushed, done. Times are epoch seconds. */
  producerEvents: Ev[];
  /** Lines of `consume`: msg, commit, assign, revoke, observed, cerror, final. */
  consumerEvents: Ev[];
  /** Lines of `read`: watermarks, rec, done. */
  readerEvents: Ev[];
  executed: ExecutedFault[];
  faultsByKind: Map<string, number>;
  /** Problems the test found while running (a fault that did not heal, a group that did not drain...). */
  findings: string[];
  /** Fewer acknowledgements or faults than this means the run did not test much (defaults 1000 and 3). */
  minAcks?: number;
  minFaults?: number;
}

export interface ChaosNumbers {
  sent: number;
  acked: number;
  failedDeliveries: number;
  undelivered: number;
  inLog: number;
  holes: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  fatal: number;
  maxAckGapMs: number;
  consumed: number;
  redelivered: number;
  skipped: number;
  changedAfterConsume: number;
  commitsBackwards: number;
  commitErrors: number;
  assignments: number;
  faults: number;
}

export interface ChaosResult {
  summary: string;
  problems: string[];
  numbers: ChaosNumbers;
}

export function checkChaos(input: ChaosInput): ChaosResult {
  const { partitions, t0, executed } = input;
  const pe = input.producerEvents;
  const ce = input.consumerEvents;
  const problems: string[] = [...input.findings];

  // The log as the fresh reader saw it.
  const log = new Map<number, Map<number, string>>();
  for (let p = 0; p < partitions; p++) log.set(p, new Map());
  const inOrder: Array<{ part: number; off: number; k: string }> = [];
  for (const e of input.readerEvents.filter((x) => x.e === 'rec')) {
    log.get(e.part)!.set(e.off, e.k);
    inOrder.push({ part: e.part, off: e.off, k: e.k });
  }
  const hi = new Map<number, number>();
  const lo = new Map<number, number>();
  for (const e of input.readerEvents.filter((x) => x.e === 'watermarks')) {
    hi.set(e.part, e.hi);
    lo.set(e.part, e.lo);
  }
  const readDone = input.readerEvents.find((x) => x.e === 'done');
  const incomplete = [...Array(partitions).keys()].filter((p) => !readDone?.complete?.includes(p));
  if (incomplete.length) problems.push(`the reader did not reach the high watermark of partitions ${incomplete.join(',')}`);
  const holes: string[] = [];
  for (let p = 0; p < partitions; p++) for (let o = lo.get(p) ?? 0; o < (hi.get(p) ?? 0); o++) if (!log.get(p)!.has(o)) holes.push(`${p}@${o}`);

  /** The fault under way at (or last before) a time in ms since the epoch, for the messages. */
  const faultAt = (ms: number) => {
    const f = [...executed].reverse().find((x) => x.at <= ms);
    if (!f) return 'before any fault';
    const what = `${f.action}${f.broker >= 0 ? ` broker ${f.broker}` : ''} at t=${((f.at - t0) / 1000).toFixed(1)}s`;
    return f.healedAt && f.healedAt < ms ? `${((ms - f.healedAt) / 1000).toFixed(1)} s after healing ${what}` : `during ${what}`;
  };
  const rel = (sec: number) => `t=${((sec * 1000 - t0) / 1000).toFixed(1)}s, ${faultAt(sec * 1000)}`;

  // 1. Every acknowledged record is in the log at the offset its delivery report gave (a report without an
  //    offset: anywhere in its partition).
  const acks = pe.filter((e) => e.e === 'dr' && e.err === null);
  const failedDrs = pe.filter((e) => e.e === 'dr' && e.err !== null);
  const keyAt = new Map<string, Array<{ part: number; off: number }>>();
  for (const r of inOrder) keyAt.set(r.k, [...(keyAt.get(r.k) ?? []), { part: r.part, off: r.off }]);
  const keyOf = (a: Ev) => `p${a.p}g${a.g}-${a.s}`;
  const ackByKey = new Map(acks.map((a) => [keyOf(a), a]));
  const lost = acks.filter((a) => (a.off >= 0 ? log.get(a.part)?.get(a.off) !== keyOf(a) : !keyAt.get(keyOf(a))?.some((x) => x.part === a.part)));
  const lostEntirely = lost.filter((a) => !keyAt.has(keyOf(a))).length;
  if (lost.length) {
    const detail = lost.slice(0, 10).map((a) => `${keyOf(a)} acked at ${a.part}@${a.off} (${rel(a.t)}); log there: ${log.get(a.part)?.get(a.off) ?? 'nothing'}; key found at ${JSON.stringify(keyAt.get(keyOf(a)) ?? [])}`);
    problems.push(`${lost.length} acknowledged records lost or moved (${lostEntirely} not in the log at all):\n    ${detail.join('\n    ')}`);
  }
  // 2. No key twice in the log (acknowledged or not: an idempotent producer's retries are deduplicated).
  const dups = [...keyAt].filter(([, at]) => at.length > 1);
  if (dups.length) {
    const detail = dups.slice(0, 10).map(([k, at]) => {
      const ack = ackByKey.get(k);
      return `${k} at ${at.map((x) => `${x.part}@${x.off}`).join(',')} (${ack ? `acked at ${ack.part}@${ack.off}, ${rel(ack.t)}` : 'not acked'})`;
    });
    problems.push(`${dups.length} keys in the log more than once: ${detail.join('; ')}`);
  }
  // 3. Per producer instance and partition, sequence numbers increase in log order (the same number again is a
  //    duplicate, counted above).
  const outOfOrder: string[] = [];
  const foreign: string[] = [];
  const lastSeq = new Map<string, number>();
  for (const r of inOrder) {
    const m = /^(p\d+g\d+)-(\d+)$/.exec(r.k ?? '');
    if (!m) {
      foreign.push(`${r.part}@${r.off}: ${r.k}`);
      continue;
    }
    const id = `${m[1]}/${r.part}`;
    const prev = lastSeq.get(id);
    if (prev !== undefined && Number(m[2]) < prev) outOfOrder.push(`partition ${r.part}@${r.off}: ${m[1]}-${m[2]} after ${m[1]}-${prev}`);
    lastSeq.set(id, Math.max(prev ?? -1, Number(m[2])));
  }
  if (outOfOrder.length) problems.push(`${outOfOrder.length} out of order: ${outOfOrder.slice(0, 10).join('; ')}`);
  if (foreign.length) problems.push(`${foreign.length} records in the log that no producer sent: ${foreign.slice(0, 10).join('; ')}`);
  if (holes.length) problems.push(`${holes.length} offsets missing from the log between its start and end: ${holes.slice(0, 20).join(', ')}`);
  // 4. Fatal producer errors (each instance reports its first one; the driver then replaces it).
  const fatal = pe.filter((e) => e.e === 'error' && e.fatal);
  const producerErrors = pe.filter((e) => e.e === 'error' && !e.fatal);
  if (fatal.length) problems.push(`${fatal.length} fatal producer errors: ${fatal.slice(0, 5).map((e) => `p${e.p}g${e.g} ${e.name ?? ''} ${e.str ?? e.err} (${rel(e.t)})`).join('; ')}`);
  // 5. Committed offsets never move backwards: successful commits in the order they were answered, the
  //    offsets fetched every 0.5 s, and the final fetch. A failed commit does not count.
  const backwards: string[] = [];
  const lastCommit = new Map<string, number>();
  for (const e of ce.filter((x) => x.e === 'commit' && !x.err)) {
    for (const [p, o] of Object.entries(e.offs as Record<string, number>)) {
      const prev = lastCommit.get(p);
      if (prev !== undefined && o < prev) backwards.push(`commit by member ${e.m}: partition ${p} ${prev} -> ${o} (${rel(e.t)})`);
      lastCommit.set(p, Math.max(prev ?? -1, o));
    }
  }
  const final = ce.find((x) => x.e === 'final');
  const lastSeen = new Map<string, number>();
  const observed = ce.filter((x) => x.e === 'observed' && x.offs);
  if (final?.offs) observed.push({ ...final, final: true });
  for (const e of observed) {
    for (const [p, o] of Object.entries(e.offs as Record<string, number>)) {
      if (o < 0) continue; // no committed offset yet (-1001)
      const prev = lastSeen.get(p);
      if (prev !== undefined && o < prev) backwards.push(`${e.final ? 'final' : 'fetched'} committed offset of partition ${p}: ${prev} -> ${o} (${rel(e.t)})`);
      lastSeen.set(p, Math.max(prev ?? -1, o));
    }
  }
  if (backwards.length) problems.push(`committed offsets moved backwards: ${backwards.slice(0, 10).join('; ')}`);
  if (!final?.offs) problems.push(`the final committed offsets could not be read: ${final?.err ?? 'no final event'}`);
  else for (const [p, h] of hi) if (final.offs[String(p)] !== h) problems.push(`final committed offset of partition ${p} is ${final.offs[String(p)]}, the log end is ${h}`);
  // 6. The group consumed every offset of the log (re-delivery allowed), and what it consumed is what the log
  //    holds (a consumer must never see a record that is later truncated away).
  const consumed = new Map<string, string>();
  const changed: string[] = [];
  let consumedCount = 0;
  for (const e of ce.filter((x) => x.e === 'msg')) {
    consumedCount++;
    consumed.set(`${e.part}@${e.off}`, e.k);
    const inLog = log.get(e.part)?.get(e.off);
    if (inLog !== e.k) changed.push(`member ${e.m} consumed ${e.k} at ${e.part}@${e.off}; the log holds ${inLog ?? 'nothing'} there`);
  }
  const skipped = inOrder.filter((r) => !consumed.has(`${r.part}@${r.off}`)).map((r) => `${r.part}@${r.off}`);
  if (skipped.length) problems.push(`the group never consumed ${skipped.length} offsets: ${skipped.slice(0, 20).join(', ')}`);
  if (changed.length) problems.push(`${changed.length} consumed records are not what the log holds now: ${changed.slice(0, 10).join('; ')}`);
  const redelivered = consumedCount - consumed.size;
  const assignments = ce.filter((e) => e.e === 'assign').length;
  const commitErrors = ce.filter((e) => e.e === 'commit' && e.err).length;
  // 7. Unavailability: the longest gap between successive acknowledgements while producing; a stretch without
  //    any up to the end of production counts too. Reports served by the final flush are not in it.
  const stopping = pe.find((e) => e.e === 'stopping');
  const endMs = (stopping?.t ?? Math.max(0, ...acks.map((a) => a.t))) * 1000;
  const ackTimes = [...acks.map((a) => a.t * 1000).filter((t) => t <= endMs), endMs].sort((a, b) => a - b);
  let maxGap = 0;
  let maxGapAt = 0;
  for (let i = 1; i < ackTimes.length; i++) {
    if (ackTimes[i] - ackTimes[i - 1] > maxGap) {
      maxGap = ackTimes[i] - ackTimes[i - 1];
      maxGapAt = ackTimes[i - 1];
    }
  }
  // The fault that began just before or within the gap.
  const gapFault = executed.find((f) => f.at >= maxGapAt - 1000 && f.at <= maxGapAt + maxGap);
  const undelivered = pe.filter((e) => e.e === 'flushed').reduce((s, e) => s + (e.left ?? 0), 0);
  const sent = Object.entries((stopping?.sent ?? {}) as Record<string, number>);
  const minAcks = input.minAcks ?? 1000;
  const minFaults = input.minFaults ?? 3;
  if (acks.length < minAcks) problems.push(`only ${acks.length} acknowledgements: the run did not exercise much`);
  if (executed.length < minFaults) problems.push(`only ${executed.length} faults injected`);

  const numbers: ChaosNumbers = {
    sent: sent.reduce((a, [, n]) => a + n, 0),
    acked: acks.length,
    failedDeliveries: failedDrs.length,
    undelivered,
    inLog: inOrder.length,
    holes: holes.length,
    lost: lost.length,
    duplicates: dups.length,
    outOfOrder: outOfOrder.length,
    fatal: fatal.length,
    maxAckGapMs: maxGap,
    consumed: consumedCount,
    redelivered,
    skipped: skipped.length,
    changedAfterConsume: changed.length,
    commitsBackwards: backwards.length,
    commitErrors,
    assignments,
    faults: executed.length,
  };
  const kinds = [...input.faultsByKind].map(([k, n]) => `${k} ${n}`).join(', ');
  const summary = [
    input.title,
    `  sent              ${numbers.sent} by ${sent.length} producer instances (${sent.map(([k, n]) => `${k} ${n}`).join(', ')})`,
    `  acked             ${acks.length}`,
    `  failed deliveries ${failedDrs.length}${failedDrs.length ? ` (${[...new Set(failedDrs.map((e) => e.err))].join(', ')})` : ''}`,
    `  undelivered       ${undelivered} (still queued when the flush gave up)`,
    `  in the log        ${inOrder.length} records; holes ${holes.length}`,
    `  lost              ${lost.length} (${lostEntirely} not in the log at all, ${lost.length - lostEntirely} elsewhere)`,
    `  duplicates        ${dups.length} keys`,
    `  out of order      ${outOfOrder.length}`,
    `  fatal errors      ${fatal.length}${fatal.length ? ` (${[...new Set(fatal.map((e) => e.name ?? e.err))].join(', ')})` : ''}; non-fatal error_cb ${producerErrors.length}`,
    `  max ack gap       ${(maxGap / 1000).toFixed(2)} s from t=${((maxGapAt - t0) / 1000).toFixed(1)}s (${gapFault ? `${gapFault.action}${gapFault.broker >= 0 ? ` broker ${gapFault.broker}` : ''} (${gapFault.role}) at t=${((gapFault.at - t0) / 1000).toFixed(1)}s` : faultAt(maxGapAt)})`,
    `  group             consumed ${consumedCount} (${redelivered} re-deliveries), skipped ${skipped.length}, changed-after-consume ${changed.length}, commits backwards ${backwards.length}, commit errors ${commitErrors}, assignments ${assignments}`,
    `  faults            ${executed.length}: ${kinds}`,
  ].join('\n');
  return { summary, problems, numbers };
}
