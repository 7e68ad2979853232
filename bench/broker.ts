// Broker benchmark: `npm run bench` (or `node esbuild.mjs && node dist/bench/broker.js`).
//
// Baseline first, in the same run: raw Node loopback TCP (one connection, 256 KiB writes to a sink in a child
// process) and a 100-byte ping-pong RTT. Then a broker started as a child process (`minikafka start --brokers 1`,
// so broker and load generator never share an event loop) driven by our own pipelined WireClient: produce of
// 100-byte records in batches of 1 and of 1000 records and of 1 MiB batches of 1 KiB records (acks=1, bounded
// window), consume of each topic from offset 0 to its end, produce latency with one request in flight; and
// kafkajs (a real client) producing 100-record batches and consuming them. Prints one table and writes the
// figures to bench/results/broker.json. Bounded: every case runs for a fixed time, a watchdog ends the run,
// and every child process is killed on the way out, also on error.

import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { WireClient } from '../src/broker/wireClient';
import { Fetch, Produce } from '../src/protocol/apis';
import { errorName } from '../src/protocol/errorCode';
import { crc32cImplementation } from '../src/protocol/records/crc32c';
import { buildBatch } from '../src/protocol/records/recordBatch';
import { MB, ProduceRun, Row, confirmLoopback, measureFileAppend, createTopic, fmtMs, machineInfo, machineLine, measureLoopback, pcts, pipelinedProduce, runBench, startCli, tempDir, ThroughputRun, throughputRow, throughputTable, withTimeout, writeResults } from './lib';

// ------------------------------------------------------------------------------------------------ settings

const CASE_MS = Number(process.env.BENCH_CASE_MS ?? 2000);
const WINDOW = 32;
const WATCHDOG_MS = 100_000;

// ------------------------------------------------------------------------------------------------ broker cases

/** One 100-byte record per request, one request in flight: the produce round trip. */
async function sequentialLatency(c: WireClient, topic: string, durationMs: number, acks: number): Promise<{ latencies: number[]; seconds: number }> {
  const batch = buildBatch({ records: [{ value: Buffer.alloc(100, 0x61) }] });
  const body = { transactionalId: null, acks, timeoutMs: 30000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] };
  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) await c.request(Produce, 9, body); // warm-up
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  while (performance.now() < deadline && latencies.length < 200_000) {
    const s = performance.now();
    const res = await c.request(Produce, 9, body);
    latencies.push(performance.now() - s);
    const pr = res.responses[0].partitionResponses[0];
    if (pr.errorCode !== 0) throw new Error(`produce to ${topic}: ${errorName(pr.errorCode)}`);
  }
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

type ConsumeRun = ThroughputRun; // valueBytes = records × the topic's known value size

/** Fetches from offset 0 up to endOffset, one request in flight, `maxBytes` per response. */
async function consumeAll(c: WireClient, topic: string, endOffset: number, valueSize: number, maxBytes: number): Promise<ConsumeRun> {
  let offset = 0;
  let records = 0;
  let batchBytes = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  while (offset < endOffset) {
    const s = performance.now();
    const res = await c.request(Fetch, 12, {
      clusterId: null,
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    latencies.push(performance.now() - s);
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch ${topic}@${offset}: ${errorName(p.errorCode)}`);
    const data = p.records;
    if (!data || data.length === 0) throw new Error(`fetch ${topic}@${offset} returned no data below the end ${endOffset}`);
    // Walk the batch headers only: BaseOffset int64 @0, Length int32 @8, LastOffsetDelta @23, RecordsCount @57.
    let pos = 0;
    while (pos + 61 <= data.length) {
      const size = data.readInt32BE(pos + 8) + 12;
      if (pos + size > data.length) break; // a trailing partial batch
      records += data.readInt32BE(pos + 57);
      offset = Number(data.readBigInt64BE(pos)) + data.readInt32BE(pos + 23) + 1;
      batchBytes += size;
      pos += size;
    }
    if (pos === 0) throw new Error(`fetch ${topic}@${offset}: no whole batch in ${data.length} bytes`);
  }
  return { requests: latencies.length, records, batchBytes, valueBytes: records * valueSize, seconds: (performance.now() - t0) / 1000, latencies };
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const machine = machineInfo();
  console.log(machineLine(machine));
  const rows: Row[] = [];
  const started = performance.now();

  // ---- (a) baseline
  const baseline = await measureLoopback();
  const { loopbackMBs } = baseline;
  rows.push(...baseline.rows);
  console.log(`loopback: ${loopbackMBs.toFixed(1)} MB/s, RTT p50 ${fmtMs(baseline.rttP50Ms)} p99 ${fmtMs(baseline.rttP99Ms)}`);
  const fileAppend = measureFileAppend();
  fileAppend.vsLoopbackPct = (100 * fileAppend.mbPerSec!) / loopbackMBs;
  rows.push(fileAppend);
  console.log(`file append: ${fileAppend.mbPerSec!.toFixed(1)} MB/s`);

  // ---- (b) broker in a child process
  const dir = tempDir('minikafka-bench-');
  const tStart = performance.now();
  const cli = await startCli(['start', '--brokers', '1', '--port', '0', '--dir', dir, '--log-level', 'warn']);
  const brokerStartMs = performance.now() - tStart;
  console.log(`broker started in ${Math.round(brokerStartMs)} ms at ${cli.bootstrap}`);
  const [host, port] = cli.bootstrap.split(',')[0].split(':');
  const clients: WireClient[] = [];
  const newClient = async () => {
    const c = new WireClient(host, Number(port), 'bench');
    await c.connect();
    clients.push(c);
    return c;
  };
  try {
    const c = await newClient();
    await createTopic(c, 'small-1', 1);
    await createTopic(c, 'small-1000', 1);
    await createTopic(c, 'large', 1, { 'max.message.bytes': String(4 * 1024 * 1024) });
    await createTopic(c, 'latency', 1);
    await createTopic(c, 'kafkajs', 1);

    const value100 = Buffer.alloc(100, 0x61);
    const value1k = Buffer.alloc(1024, 0x62);
    const batch1 = buildBatch({ records: [{ value: value100 }] });
    const batch1000 = buildBatch({ records: Array.from({ length: 1000 }, () => ({ value: value100 })) });
    const batchLarge = buildBatch({ records: Array.from({ length: 1016 }, () => ({ value: value1k })) }); // ≈ 1 MiB

    const produceRow = (name: string, r: ProduceRun, extra: Record<string, unknown> = {}): Row => throughputRow(name, r, loopbackMBs, extra);
    const consumeRow = (name: string, r: ConsumeRun): Row => throughputRow(name, r, loopbackMBs);
    const step = async <T>(what: string, fn: () => Promise<T>, ms = 30000): Promise<T> => {
      const t = performance.now();
      const v = await withTimeout(fn(), ms, what);
      console.log(`  ${what}: ${Math.round(performance.now() - t)} ms`);
      return v;
    };

    // produce
    const p1 = await step('produce 1-record batches', () => pipelinedProduce(c, 'small-1', batch1, 1, 100, 1, CASE_MS, WINDOW));
    rows.push(produceRow(`produce 100 B × 1/batch, acks=1, ${WINDOW} in flight`, p1));
    const p1000 = await step('produce 1000-record batches', () => pipelinedProduce(c, 'small-1000', batch1000, 1000, 100_000, 1, CASE_MS, WINDOW));
    rows.push(produceRow(`produce 100 B × 1000/batch, acks=1, ${WINDOW} in flight`, p1000));
    const pl = await step('produce 1 MiB batches', () => pipelinedProduce(c, 'large', batchLarge, 1016, 1016 * 1024, 1, CASE_MS, WINDOW));
    rows.push(produceRow(`produce 1 KiB × 1016/batch (1 MiB), acks=1, ${WINDOW} in flight`, pl));

    // consume (fresh connection; one fetch in flight, 32 MiB per response)
    const fetchMax = 32 * 1024 * 1024;
    const cc = await newClient();
    const c1 = await step('consume small-1', () => consumeAll(cc, 'small-1', p1.records, 100, fetchMax));
    rows.push(consumeRow('consume 100 B (stored 1/batch), 32 MiB fetches', c1));
    const c1000 = await step('consume small-1000', () => consumeAll(cc, 'small-1000', p1000.records, 100, fetchMax));
    rows.push(consumeRow('consume 100 B (stored 1000/batch), 32 MiB fetches', c1000));
    const cl = await step('consume large', () => consumeAll(cc, 'large', pl.records, 1024, fetchMax));
    rows.push(consumeRow('consume 1 KiB (stored 1 MiB batches), 32 MiB fetches', cl));

    // latency
    const lat = await step('produce latency', () => sequentialLatency(c, 'latency', Math.min(CASE_MS, 2000), 1));
    const ll = pcts(lat.latencies);
    rows.push({ case: 'produce latency 100 B, acks=1, 1 in flight', recordsPerSec: ll.n / lat.seconds, mbPerSec: (ll.n * 100) / MB / lat.seconds, p50Ms: ll.p50, p99Ms: ll.p99, samples: ll.n, note: 'vs loopback: p50 / RTT p50' });

    // kafkajs
    const kafka = new Kafka({ clientId: 'bench', brokers: [cli.bootstrap.split(',')[0]], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await step('kafkajs producer connect', () => producer.connect(), 10000);
    const messages = Array.from({ length: 100 }, () => ({ value: value100 }));
    const kp = await step('kafkajs produce', async () => {
      for (let i = 0; i < 20; i++) await producer.send({ topic: 'kafkajs', acks: 1, messages }); // warm-up
      const latencies: number[] = [];
      const t0 = performance.now();
      const deadline = t0 + CASE_MS;
      let sends = 0;
      while (performance.now() < deadline) {
        const s = performance.now();
        await producer.send({ topic: 'kafkajs', acks: 1, messages });
        latencies.push(performance.now() - s);
        sends++;
      }
      return { requests: sends, records: sends * 100, valueBytes: sends * 100 * 100, batchBytes: 0, seconds: (performance.now() - t0) / 1000, latencies };
    });
    await withTimeout(producer.disconnect(), 10000, 'kafkajs producer disconnect');
    rows.push(produceRow('kafkajs produce 100 B × 100/send, acks=1, 1 send in flight', kp, { batchBytesPerSecMB: undefined }));
    const kafkajsTotal = kp.records + 20 * 100;

    const consumer = kafka.consumer({ groupId: `bench-${Date.now()}`, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 1000 });
    await step('kafkajs consumer connect', () => consumer.connect(), 10000);
    await consumer.subscribe({ topics: ['kafkajs'], fromBeginning: true });
    const kc = await step('kafkajs consume', () => {
      return new Promise<{ records: number; seconds: number; joinMs: number; latencies: number[] }>((resolve) => {
        const tRun = performance.now();
        let first = 0;
        let got = 0;
        let last = 0;
        const batchGaps: number[] = [];
        void consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const now = performance.now();
            if (!first) first = now;
            else batchGaps.push(now - last);
            last = now;
            got += batch.messages.length;
            if (got >= kafkajsTotal) resolve({ records: got, seconds: (performance.now() - first) / 1000, joinMs: first - tRun, latencies: batchGaps });
          },
        });
      });
    }, 30000);
    await withTimeout(consumer.disconnect(), 10000, 'kafkajs consumer disconnect').catch(() => {});
    const kcl = pcts(kc.latencies);
    rows.push({
      case: 'kafkajs consume (eachBatch, defaults), from first batch',
      recordsPerSec: kc.records / kc.seconds,
      mbPerSec: (kc.records * 100) / MB / kc.seconds,
      vsLoopbackPct: (100 * ((kc.records * 100) / MB / kc.seconds)) / loopbackMBs,
      p50Ms: kcl.p50,
      p99Ms: kcl.p99,
      records: kc.records,
      seconds: kc.seconds,
      groupJoinMs: kc.joinMs,
      note: 'p50/p99 = gap between batches; group join excluded (groupJoinMs)',
    });

    // ---- report (the loopback once more: the baseline is the larger of the two measurements)
    await confirmLoopback(baseline, rows);
    console.log(`loopback at the end: ${baseline.loopbackEndMBs!.toFixed(1)} MB/s; baseline ${baseline.loopbackMBs.toFixed(1)} MB/s`);
    const latRow = rows.find((r) => r.case.startsWith('produce latency'))!;
    const table = throughputTable(rows, (r) => (r === latRow ? `${(latRow.p50Ms! / baseline.rttP50Ms).toFixed(1)}× RTT` : undefined));
    console.log('');
    const loadEnd = machineInfo().loadavg;
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadavg.join(' ')} at start, ${loadEnd.join(' ')} at end`);
    console.log(table);
    console.log('');
    console.log('MB/s counts record values (100 B or 1 KiB each), as Kafka\'s perf tools do; "vs loopback" is that over the loopback');
    console.log(`baseline of this run (the larger of two measurements, at the start and the end). Produce p50/p99 are per request`);
    console.log(`with up to ${WINDOW} in flight (queueing included);`);
    console.log('consume p50/p99 are per Fetch. Broker: `minikafka start --brokers 1` in a child process (supervisor + broker process).');
    const produceLargePct = rows.find((r) => r.case.startsWith('produce 1 KiB'))!.vsLoopbackPct!;
    const consumeLargePct = rows.find((r) => r.case.startsWith('consume 1 KiB'))!.vsLoopbackPct!;
    const aim = (pct: number) => `${pct.toFixed(1)}% of loopback (${pct >= 25 ? 'meets' : 'below'} the 25% aim)`;
    console.log(`aim: produce of large batches ${aim(produceLargePct)}; consume of large batches ${aim(consumeLargePct)}`);
    const produceLargeVsFilePct = (100 * rows.find((r) => r.case.startsWith('produce 1 KiB'))!.mbPerSec!) / fileAppend.mbPerSec!;
    console.log(`produce of large batches is ${produceLargeVsFilePct.toFixed(1)}% of the file-append baseline (the page cache's speed here)`);

    const out = {
      name: 'broker',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: loadEnd },
      settings: { caseMs: CASE_MS, window: WINDOW, fetchMaxBytes: fetchMax, mbIs: '1e6 bytes of record values', crc32c: crc32cImplementation },
      baseline: { loopbackMBs: baseline.loopbackMBs, loopbackStartMBs: baseline.loopbackStartMBs, loopbackEndMBs: baseline.loopbackEndMBs, loopbackBytes: baseline.loopbackBytes, loopbackSeconds: baseline.loopbackSeconds, rttP50Ms: baseline.rttP50Ms, rttP99Ms: baseline.rttP99Ms, rttSamples: baseline.rttSamples },
      brokerStartMs,
      rows,
      aims: { produceLargeVsLoopbackPct: produceLargePct, consumeLargeVsLoopbackPct: consumeLargePct, produceLargeVsFileAppendPct: produceLargeVsFilePct, target: 25 },
      totalSeconds: (performance.now() - started) / 1000,
    };
    console.log(`wrote ${writeResults('broker', out)} (${out.totalSeconds.toFixed(1)} s)`);
  } catch (err) {
    console.error(`broker output:\n${cli.output()}`);
    throw err;
  } finally {
    for (const c of clients) c.close();
    await cli.stop();
  }
}

runBench('broker', WATCHDOG_MS, main);
