// Transactions benchmark: `node esbuild.mjs && node dist/bench/transactions.js`.
//
// kafkajs 2.2.4 (a real client) on a 3-broker cluster started with the CLI (`minikafka start --brokers 3`), one
// topic with 1 partition, replication factor 3, min.insync.replicas=2, acks=all throughout. Baselines first, in the
// same run: Node loopback ping-pong (RTT), then an idempotent producer (the same client without transactions)
// sending N records per send, one send in flight, for N in 1, 10, 100, 1000. Then a transactional producer doing,
// for the same N, one transaction per N records: begin, send (AddPartitionsToTxn + Produce), commit (EndTxn: the
// coordinator writes PrepareCommit to __transaction_state, the markers to the partition, CompleteCommit). Rows give
// records/s and the p50/p99 of one whole transaction, and the commit call alone; "vs idempotent" is the
// transactional rate over the idempotent one for the same N. Writes bench/results/transactions.json.

import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { WireClient } from '../src/broker/wireClient';
import { createTopic, fmtInt, fmtMB, fmtMs, machineInfo, machineLine, measureLoopback, MB, pcts, renderTable, Row, runBench, startCli, tempDir, withTimeout, writeResults } from './lib';

const CASE_MS = Number(process.env.BENCH_CASE_MS ?? 3000);
const SIZES = [1, 10, 100, 1000];
const VALUE = Buffer.alloc(100, 0x61);
const TOPIC = 'txn-bench';
const WATCHDOG_MS = 150_000;

interface Run {
  records: number;
  seconds: number;
  /** One send (idempotent) or one whole transaction (transactional), ms. */
  latencies: number[];
  /** The commit call alone, ms (transactional only). */
  commits: number[];
}

async function idempotentRun(producer: Producer, n: number): Promise<Run> {
  const messages = Array.from({ length: n }, () => ({ value: VALUE }));
  for (let i = 0; i < 5; i++) await producer.send({ topic: TOPIC, acks: -1, messages }); // warm-up
  const latencies: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < CASE_MS) {
    const s = performance.now();
    await producer.send({ topic: TOPIC, acks: -1, messages });
    latencies.push(performance.now() - s);
  }
  return { records: latencies.length * n, seconds: (performance.now() - t0) / 1000, latencies, commits: [] };
}

async function transactionalRun(producer: Producer, n: number): Promise<Run> {
  const messages = Array.from({ length: n }, () => ({ value: VALUE }));
  const one = async () => {
    const txn = await producer.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages });
    const c = performance.now();
    await txn.commit();
    return performance.now() - c;
  };
  for (let i = 0; i < 3; i++) await one(); // warm-up
  const latencies: number[] = [];
  const commits: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < CASE_MS) {
    const s = performance.now();
    commits.push(await one());
    latencies.push(performance.now() - s);
  }
  return { records: latencies.length * n, seconds: (performance.now() - t0) / 1000, latencies, commits };
}

function row(name: string, r: Run, extra: Record<string, unknown> = {}): Row {
  const l = pcts(r.latencies);
  const c = r.commits.length ? pcts(r.commits) : undefined;
  return { case: name, recordsPerSec: r.records / r.seconds, mbPerSec: (r.records * VALUE.length) / MB / r.seconds, p50Ms: l.p50, p99Ms: l.p99, commitP50Ms: c?.p50, commitP99Ms: c?.p99, samples: l.n, ...extra };
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = machineInfo();
  console.log(machineLine(machine));
  const baseline = await measureLoopback(500, 1000);
  const cli = await startCli(['start', '--brokers', '3', '--port', '0', '--dir', tempDir('minikafka-bench-txn-'), '--log-level', 'warn', '--config', 'min.insync.replicas=2']);
  const producers: Producer[] = [];
  try {
    const [host, port] = cli.bootstrap.split(',')[0].split(':');
    const admin = new WireClient(host, Number(port), 'bench-txn');
    await admin.connect();
    await createTopic(admin, TOPIC, 3, { 'min.insync.replicas': '2' }, { fullIsr: true });
    admin.close();
    const kafka = new Kafka({ clientId: 'bench-txn', brokers: cli.bootstrap.split(','), logLevel: logLevel.NOTHING });
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const transactional = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: 'bench-txn', allowAutoTopicCreation: false });
    producers.push(idempotent, transactional);
    await withTimeout(idempotent.connect(), 15000, 'idempotent producer connect');
    await withTimeout(transactional.connect(), 30000, 'transactional producer connect (creates __transaction_state)');

    const rows: Row[] = [...baseline.rows.slice(1)];
    const rates = new Map<number, number>();
    for (const n of SIZES) {
      const r = await withTimeout(idempotentRun(idempotent, n), CASE_MS + 30000, `idempotent ${n}`);
      rows.push(row(`idempotent: ${n} × 100 B per send, acks=all`, r, { kind: 'idempotent', n }));
      rates.set(n, r.records / r.seconds);
      console.log(`  ${rows[rows.length - 1].case}: ${fmtInt(r.records / r.seconds)} records/s`);
    }
    for (const n of SIZES) {
      const r = await withTimeout(transactionalRun(transactional, n), CASE_MS + 30000, `transactional ${n}`);
      rows.push(row(`transactional: ${n} × 100 B per transaction, acks=all`, r, { kind: 'transactional', n, vsIdempotentPct: (100 * r.records) / r.seconds / rates.get(n)! }));
      console.log(`  ${rows[rows.length - 1].case}: ${fmtInt(r.records / r.seconds)} records/s`);
    }
    const loadEnd = machineInfo().loadavg;
    console.log('');
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadavg.join(' ')} at start, ${loadEnd.join(' ')} at end`);
    console.log(
      renderTable(
        ['case', 'records/s', 'MB/s', 'vs idempotent', 'p50', 'p99', 'commit p50', 'commit p99'],
        rows.map((r) => [
          r.case,
          fmtInt(r.recordsPerSec ?? NaN),
          r.mbPerSec === undefined ? '—' : fmtMB(r.mbPerSec),
          typeof r.vsIdempotentPct === 'number' ? `${r.vsIdempotentPct.toFixed(1)}%` : '—',
          fmtMs(r.p50Ms),
          fmtMs(r.p99Ms),
          fmtMs(r.commitP50Ms as number | undefined),
          fmtMs(r.commitP99Ms as number | undefined),
        ]),
        [false, true, true, true, true, true, true, true],
      ),
    );
    console.log('');
    console.log(`p50/p99: one send (idempotent) or one whole transaction, begin to commit (transactional); commit: the commit call alone.`);
    const out = {
      name: 'transactions',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: loadEnd },
      settings: { brokers: 3, replicationFactor: 3, minInsyncReplicas: 2, acks: 'all', caseMs: CASE_MS, sizes: SIZES, valueBytes: VALUE.length, client: 'kafkajs 2.2.4', mbIs: '1e6 bytes of record values' },
      baseline: { rttP50Ms: baseline.rttP50Ms, rttP99Ms: baseline.rttP99Ms },
      rows,
      totalSeconds: (performance.now() - started) / 1000,
    };
    console.log(`wrote ${writeResults('transactions', out)} (${out.totalSeconds.toFixed(1)} s)`);
  } catch (err) {
    console.error(`cluster output:\n${cli.output()}`);
    throw err;
  } finally {
    for (const p of producers) await withTimeout(p.disconnect(), 5000, 'producer disconnect').catch(() => {});
    await cli.stop();
  }
}

runBench('transactions', WATCHDOG_MS, main);
