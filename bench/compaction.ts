// The log cleaner's cost, in-process on a partition log in a temp dir (no network: compaction is local to each
// replica). Baselines measured in the same run on the same files: reading every segment file with plain fs reads,
// and reading the whole log through PartitionLog.read. Then the first cleaning of the log (every key updated
// BENCH_COMPACTION_UPDATES times), and what the cleaner costs when nothing is dirty: one look over
// BENCH_COMPACTION_IDLE_LOGS cleaned logs.
//
//   node esbuild.mjs && node dist/bench/compaction.js      (writes bench/results/compaction.json)

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogCleaner } from '../src/broker/logCleaner';
import { nopLogger } from '../src/broker/logger';
import type { Partition } from '../src/broker/partition';
import { LogConfig, PartitionLog } from '../src/broker/state/partitionLog';
import { buildBatch } from '../src/protocol/records/recordBatch';
import { fmtMs, machineInfo, machineLine, renderTable, runBench, tempDir, writeResults } from './lib';

const KEYS = Number(process.env.BENCH_COMPACTION_KEYS ?? 20_000);
const UPDATES = Number(process.env.BENCH_COMPACTION_UPDATES ?? 10);
const RECORDS_PER_BATCH = 10;
const VALUE_BYTES = 100;
const IDLE_LOGS = Number(process.env.BENCH_COMPACTION_IDLE_LOGS ?? 1000);
const MB = 1024 * 1024;
const config: LogConfig = { segmentBytes: 4 * MB, segmentMs: 7 * 86_400_000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096 };
const cleanConfig = { deleteRetentionMs: 86_400_000, minCompactionLagMs: 0, maxMapEntries: 1_000_000 };

function fill(log: PartitionLog, keys: number, updates: number): number {
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  let records = 0;
  for (let u = 0; u < updates; u++) {
    for (let k = 0; k < keys; k += RECORDS_PER_BATCH) {
      const batch = buildBatch({ records: Array.from({ length: Math.min(RECORDS_PER_BATCH, keys - k) }, (_, i) => ({ key: `key-${k + i}`, value })) });
      log.appendAsLeader(batch, 0);
      records += Math.min(RECORDS_PER_BATCH, keys - k);
    }
  }
  log.setHighWatermark(log.logEndOffset);
  return records;
}

function time<T>(f: () => T): { result: T; ms: number } {
  const start = process.hrtime.bigint();
  const result = f();
  return { result, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

runBench('compaction', 10 * 60_000, async () => {
  const machine = machineInfo();
  const dir = tempDir('minikafka-bench-compaction-');
  const log = PartitionLog.open(join(dir, 'bench-0'), config);
  const records = fill(log, KEYS, UPDATES);
  // The active segment is never cleaned: roll it (segment.ms) so that the whole log is cleanable.
  log.updateConfig({ ...config, segmentMs: 1 });
  await new Promise((r) => setTimeout(r, 5));
  log.maybeRoll();
  log.updateConfig(config);
  log.flush();
  const bytes = log.sizeInBytes();

  const segmentDir = join(dir, 'bench-0');
  const rawRead = time(() => {
    let n = 0;
    for (const f of readdirSync(segmentDir).filter((f) => f.endsWith('.log'))) n += readFileSync(join(segmentDir, f)).length;
    return n;
  });
  const logRead = time(() => {
    let offset = 0;
    let n = 0;
    while (offset < log.logEndOffset - 1) {
      const data = log.read(offset, MB, log.logEndOffset);
      if (data.length === 0) break;
      n += data.length;
      // The offset after the last whole batch returned.
      let pos = 0;
      let last = offset;
      while (pos + 61 <= data.length) {
        last = Number(data.readBigInt64BE(pos)) + data.readInt32BE(pos + 23);
        pos += data.readInt32BE(pos + 8) + 12;
      }
      offset = last + 1;
    }
    return n;
  });
  // Force a fresh look at the log (as after a broker start) and clean it once: every record is dirty.
  const cleanStart = process.hrtime.bigint();
  const clean = { result: await log.clean(0, cleanConfig), ms: 0 };
  clean.ms = Number(process.hrtime.bigint() - cleanStart) / 1e6;
  const afterBytes = log.sizeInBytes();
  log.close();

  // Idle: logs that were cleaned and got nothing since; one look of the cleaner over all of them.
  const idleLogs: PartitionLog[] = [];
  const partitions: Partition[] = [];
  for (let i = 0; i < IDLE_LOGS; i++) {
    const l = PartitionLog.open(join(dir, `idle-${i}`), config);
    l.appendAsLeader(buildBatch({ records: [{ key: 'k', value: 'v' }] }), 0);
    l.setHighWatermark(l.logEndOffset);
    idleLogs.push(l);
    partitions.push({ key: `idle-${i}`, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'max.compaction.lag.ms': '9223372036854775807', 'min.cleanable.dirty.ratio': '0.5', 'delete.retention.ms': '86400000' }, log: l } as unknown as Partition);
  }
  const cleaner = new LogCleaner({ logDir: dir, partitions: () => partitions, logger: nopLogger, now: Date.now, backoffMs: 15_000 });
  // First looks: every log was just opened (all of it possibly dirty); nothing is cleanable (active segments only).
  while ((await cleaner.cleanDirtiest())?.segmentsCleaned) {
    /* clean whatever is cleanable */
  }
  for (const l of idleLogs) l.bytesAppendedSinceClean = 0; // as after their last cleaning
  const lookSamples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = process.hrtime.bigint();
    await cleaner.cleanDirtiest();
    lookSamples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  lookSamples.sort((a, b) => a - b);
  const idleLookMs = lookSamples[Math.floor(lookSamples.length / 2)];
  for (const l of idleLogs) l.close();

  const rows = [
    ['baseline: read the segment files (fs)', `${(rawRead.result / MB).toFixed(1)} MB`, fmtMs(rawRead.ms), `${(rawRead.result / MB / (rawRead.ms / 1000)).toFixed(0)} MB/s`, '—'],
    ['baseline: read the whole log (PartitionLog.read)', `${(logRead.result / MB).toFixed(1)} MB`, fmtMs(logRead.ms), `${(logRead.result / MB / (logRead.ms / 1000)).toFixed(0)} MB/s`, '—'],
    [
      `clean: ${KEYS} keys x ${UPDATES} updates (${records} records)`,
      `${(bytes / MB).toFixed(1)} -> ${(afterBytes / MB).toFixed(1)} MB`,
      fmtMs(clean.ms),
      `${(bytes / MB / (clean.ms / 1000)).toFixed(0)} MB/s`,
      `${(clean.result.stats.recordsRead / (clean.ms / 1000) / 1000).toFixed(0)}k records/s read`,
    ],
    [`idle: one look over ${IDLE_LOGS} cleaned logs`, '—', fmtMs(idleLookMs), '—', `${((idleLookMs * 1000) / IDLE_LOGS).toFixed(2)} µs per log`],
  ];
  console.log(machineLine(machine));
  console.log(renderTable(['case', 'bytes', 'time', 'rate', 'note'], rows, [false, true, true, true, false]));
  const file = writeResults('compaction', {
    machine,
    loadavgEnd: machineInfo().loadavg,
    keys: KEYS,
    updates: UPDATES,
    records,
    bytesBefore: bytes,
    bytesAfter: afterBytes,
    rawReadMs: rawRead.ms,
    logReadMs: logRead.ms,
    cleanMs: clean.ms,
    cleanStats: clean.result.stats,
    segmentsCleaned: clean.result.segmentsCleaned,
    idleLogs: IDLE_LOGS,
    idleLookMs,
  });
  console.log(`wrote ${file}`);
});
