// Mini-cluster benchmark: `npm run bench` (or `node esbuild.mjs && node dist/bench/cluster.js`).
//
// Baseline first, in the same run: raw Node loopback TCP (as in bench/broker.ts). Then a 3-broker cluster started
// with the CLI as a child process (`minikafka start --brokers 3 --port 0 --dir TMP`: a supervisor and one OS process
// per broker) and measured from outside, the way a user sees it:
//   - start: from spawning the CLI until its `bootstrap:` line, and until an acks=all produce to a freshly created
//     RF 3 topic is acknowledged (aim < 2 s);
//   - produce throughput with our pipelined WireClient (32 requests in flight) to RF 3 topics with acks=all and to
//     RF 1 topics with acks=1 on the same cluster, 100 B × 1000 per batch and 1 MiB batches (1 KiB records);
//   - failover, repeated: kill -9 of the partition leader's process through the control endpoint (the CLI's
//     `broker kill`), then the time until a surviving broker's Metadata names a new leader (aim < 1 s) and until the
//     next acks=all produce (min.insync.replicas=2) succeeds; the killed broker is restarted and the ISR is full
//     again before the next round.
// Prints two tables and writes bench/results/cluster.json. Bounded: fixed-time cases, a watchdog, and every child
// process (the CLI's whole process group) killed on every exit path.

import { performance } from 'node:perf_hooks';
import { ControlClient } from '../src/broker/cluster/controlClient';
import type { ClusterState } from '../src/broker/cluster/supervisor';
import { WireClient } from '../src/broker/wireClient';
import { Produce } from '../src/protocol/apis';
import { ErrorCode, errorName } from '../src/protocol/errorCode';
import { crc32cImplementation } from '../src/protocol/records/crc32c';
import { buildBatch } from '../src/protocol/records/recordBatch';
import {
  Cli,
  ProduceRun,
  Row,
  confirmLoopback,
  createTopic,
  fmtMs,
  machineInfo,
  machineLine,
  measureFileAppend,
  measureLoopback,
  median,
  pipelinedProduce,
  renderTable,
  runBench,
  sleep,
  startCli,
  tempDir,
  throughputRow,
  throughputTable,
  topicMetadata,
  withTimeout,
  writeResults,
} from './lib';

// ------------------------------------------------------------------------------------------------ settings

const CASE_MS = Number(process.env.BENCH_CASE_MS ?? 2000);
const FAILOVER_ROUNDS = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 5);
const BROKERS = 3;
const WINDOW = 32;
const WATCHDOG_MS = 110_000;
const START_AIM_MS = 2000;
const FAILOVER_AIM_MS = 1000;

/** Errors a client retries after a leader change (Kafka clients refresh metadata and retry on these). */
const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
]);

// ------------------------------------------------------------------------------------------------ the cluster

/** One connection per broker id, (re)opened on demand from the addresses the cluster advertises. */
class Connections {
  private readonly clients = new Map<number, WireClient>();
  private readonly addresses = new Map<number, { host: string; port: number }>();

  constructor(bootstrap: string) {
    bootstrap.split(',').forEach((hp, i) => {
      const [host, port] = hp.split(':');
      this.addresses.set(i + 1, { host, port: Number(port) }); // brokers 1..n print their addresses in id order
    });
  }

  async get(id: number): Promise<WireClient> {
    const open = this.clients.get(id);
    if (open?.isOpen) return open;
    const addr = this.addresses.get(id);
    if (!addr) throw new Error(`no address for broker ${id}`);
    const c = new WireClient(addr.host, addr.port, 'bench-cluster');
    await c.connect(2000);
    this.clients.set(id, c);
    return c;
  }

  /** Learns the advertised addresses from a Metadata answer (a restarted broker keeps its port, but be sure). */
  learn(brokers: Array<{ nodeId: number; host: string; port: number }>): void {
    for (const b of brokers) this.addresses.set(b.nodeId, { host: b.host, port: b.port });
  }

  drop(id: number): void {
    this.clients.get(id)?.close();
    this.clients.delete(id);
  }

  closeAll(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** The leader of partition 0 of `topic` as the broker `askId` sees it (-1 if none). */
async function leaderOf(conns: Connections, askId: number, topic: string): Promise<{ leader: number; isr: number[] }> {
  const md = await topicMetadata(await conns.get(askId), topic);
  conns.learn(md.brokers);
  const p = md.topic?.errorCode === 0 ? md.topic.partitions.find((x) => x.partitionIndex === 0) : undefined;
  return { leader: p && p.errorCode === 0 ? p.leaderId : -1, isr: p?.isrNodes ?? [] };
}

/** One acks=all produce of a single 100-byte record to the current leader, retried like a client does. */
async function produceUntilAcked(conns: Connections, askIds: number[], topic: string, deadlineMs: number): Promise<{ attempts: number; leader: number }> {
  const body = (batch: Buffer) => ({ transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
  let attempts = 0;
  let lastError = '';
  while (performance.now() < deadlineMs) {
    attempts++;
    try {
      let leader = -1;
      for (const id of askIds) {
        leader = (await leaderOf(conns, id, topic)).leader;
        if (leader >= 0) break;
      }
      if (leader < 0) {
        lastError = 'no leader';
        await sleep(2);
        continue;
      }
      const c = await conns.get(leader);
      const res = await c.request(Produce, 9, body(buildBatch({ records: [{ value: Buffer.alloc(100, 0x66) }] })), 15000);
      const pr = res.responses[0].partitionResponses[0];
      if (pr.errorCode === 0) return { attempts, leader };
      lastError = errorName(pr.errorCode);
      if (!RETRIABLE.has(pr.errorCode)) throw new Error(`produce to ${topic}: ${lastError} ${pr.errorMessage ?? ''}`);
    } catch (err) {
      if ((err as Error).message.startsWith(`produce to ${topic}`)) throw err;
      lastError = (err as Error).message; // a connection to a dead broker: retry with fresh metadata
    }
    await sleep(2);
  }
  throw new Error(`no acks=all produce to ${topic} succeeded in time (${attempts} attempts; last: ${lastError})`);
}

async function waitForState(control: ControlClient, cond: (s: ClusterState) => boolean, timeoutMs: number, what: string): Promise<ClusterState> {
  const deadline = performance.now() + timeoutMs;
  let last: ClusterState | undefined;
  while (performance.now() < deadline) {
    last = await control.state();
    if (cond(last)) return last;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; brokers ${JSON.stringify(last?.brokers.map((b) => [b.id, b.state, b.fenced]))}`);
}

const partitionState = (s: ClusterState, topic: string) => s.topics.find((t) => t.name === topic)?.partitions[0];
const fullIsr = (topic: string) => (s: ClusterState) =>
  s.brokers.every((b) => b.state === 'running' && !b.fenced) && (partitionState(s, topic)?.isr.length ?? 0) === BROKERS && (partitionState(s, topic)?.leader ?? -1) >= 0;

// ------------------------------------------------------------------------------------------------ main

interface FailoverRound {
  round: number;
  killed: number;
  newLeader: number;
  /** kill request sent -> a surviving broker's Metadata names another leader. */
  newLeaderMs: number;
  /** kill request sent -> an acks=all produce succeeded. */
  produceMs: number;
  produceAttempts: number;
  /** restart request sent -> the ISR holds all three replicas again. */
  rejoinMs: number;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  console.log(machineLine(machine));
  const started = performance.now();
  const rows: Row[] = [];

  // ---- (a) baseline
  const baseline = await measureLoopback();
  const { loopbackMBs } = baseline;
  rows.push(baseline.rows[0]);
  console.log(`loopback: ${loopbackMBs.toFixed(1)} MB/s`);
  const fileAppend = measureFileAppend();
  fileAppend.vsLoopbackPct = (100 * fileAppend.mbPerSec!) / loopbackMBs;
  rows.push(fileAppend);
  console.log(`file append: ${fileAppend.mbPerSec!.toFixed(1)} MB/s`);

  // ---- (b) cluster start, until an acks=all produce succeeds
  const dir = tempDir('minikafka-bench-cluster-');
  const tSpawn = performance.now();
  const cli: Cli = await startCli(['start', '--brokers', String(BROKERS), '--port', '0', '--dir', dir, '--log-level', 'warn'], 20000);
  const bootstrapMs = performance.now() - tSpawn;
  const conns = new Connections(cli.bootstrap);
  try {
    const c1 = await conns.get(1);
    await createTopic(c1, 'start-probe', BROKERS);
    await produceUntilAcked(conns, [1, 2, 3], 'start-probe', performance.now() + 15000);
    const firstProduceMs = performance.now() - tSpawn;
    console.log(`cluster: bootstrap printed after ${Math.round(bootstrapMs)} ms, first acks=all produce after ${Math.round(firstProduceMs)} ms (${cli.bootstrap})`);
    const control = ControlClient.forDir(dir);

    // ---- (c) produce throughput, RF 3 acks=all next to RF 1 acks=1
    const value100 = Buffer.alloc(100, 0x61);
    const value1k = Buffer.alloc(1024, 0x62);
    const batch1000 = buildBatch({ records: Array.from({ length: 1000 }, () => ({ value: value100 })) });
    const batchLarge = buildBatch({ records: Array.from({ length: 1016 }, () => ({ value: value1k })) }); // ≈ 1 MiB
    const large = { 'max.message.bytes': String(4 * 1024 * 1024) };
    const cases = [
      { topic: 'rf1-small', rf: 1, acks: 1, batch: batch1000, records: 1000, valueBytes: 100_000, configs: {}, name: `produce 100 B × 1000/batch, RF 1, acks=1, ${WINDOW} in flight` },
      { topic: 'rf3-small', rf: 3, acks: -1, batch: batch1000, records: 1000, valueBytes: 100_000, configs: {}, name: `produce 100 B × 1000/batch, RF 3, acks=all, ${WINDOW} in flight` },
      { topic: 'rf1-large', rf: 1, acks: 1, batch: batchLarge, records: 1016, valueBytes: 1016 * 1024, configs: large, name: `produce 1 KiB × 1016/batch (1 MiB), RF 1, acks=1, ${WINDOW} in flight` },
      { topic: 'rf3-large', rf: 3, acks: -1, batch: batchLarge, records: 1016, valueBytes: 1016 * 1024, configs: large, name: `produce 1 KiB × 1016/batch (1 MiB), RF 3, acks=all, ${WINDOW} in flight` },
    ];
    for (const k of cases) {
      await createTopic(c1, k.topic, k.rf, k.configs, { fullIsr: true });
      const { leader } = await leaderOf(conns, 1, k.topic);
      const c = await conns.get(leader);
      const t = performance.now();
      const r: ProduceRun = await withTimeout(pipelinedProduce(c, k.topic, k.batch, k.records, k.valueBytes, k.acks, CASE_MS, WINDOW), CASE_MS + 40000, k.name);
      console.log(`  ${k.name}: ${Math.round(performance.now() - t)} ms (leader ${leader})`);
      rows.push(throughputRow(k.name, r, loopbackMBs, { leader, replicationFactor: k.rf, acks: k.acks }));
    }

    // ---- (d) failover rounds
    const topic = 'failover';
    await createTopic(c1, topic, BROKERS, { 'min.insync.replicas': '2' }, { fullIsr: true });
    await produceUntilAcked(conns, [1, 2, 3], topic, performance.now() + 10000);
    const rounds: FailoverRound[] = [];
    for (let round = 1; round <= FAILOVER_ROUNDS; round++) {
      const before = await waitForState(control, fullIsr(topic), 20000, `a full ISR for ${topic} before round ${round}`);
      const killed = partitionState(before, topic)!.leader;
      const survivors = before.brokers.map((b) => b.id).filter((id) => id !== killed);
      for (const id of survivors) await conns.get(id); // a client already has its connections open
      // Settle: the previous round's restart may still be moving preferred leadership around.
      await sleep(200);
      const tKill = performance.now();
      // Not waited for before polling: the control API answers once the process is gone, clients do not wait for that.
      const killAnswered = control.broker(killed, 'kill');
      conns.drop(killed);
      // Poll every surviving broker's Metadata until one names another leader.
      let newLeader = -1;
      while (newLeader < 0) {
        if (performance.now() - tKill > 15000) throw new Error(`round ${round}: no new leader 15 s after killing broker ${killed}`);
        const views = await Promise.all(survivors.map((id) => leaderOf(conns, id, topic).catch(() => ({ leader: -1, isr: [] }))));
        const named = views.find((v) => v.leader >= 0 && v.leader !== killed);
        if (named) newLeader = named.leader;
        else await sleep(1);
      }
      const newLeaderMs = performance.now() - tKill;
      const acked = await produceUntilAcked(conns, survivors, topic, tKill + 20000);
      const produceMs = performance.now() - tKill;
      await killAnswered;
      const tRestart = performance.now();
      await withTimeout(control.broker(killed, 'restart'), 20000, `restart of broker ${killed}`);
      await waitForState(control, fullIsr(topic), 20000, `broker ${killed} back in the ISR of ${topic}`);
      const rejoinMs = performance.now() - tRestart;
      rounds.push({ round, killed, newLeader, newLeaderMs, produceMs, produceAttempts: acked.attempts, rejoinMs });
      console.log(`  failover ${round}: killed ${killed}, new leader ${newLeader} after ${fmtMs(newLeaderMs)}, acks=all produce after ${fmtMs(produceMs)} (${acked.attempts} attempt(s)), ISR full ${fmtMs(rejoinMs)} after restart`);
    }

    // ---- report (the loopback once more: the baseline is the larger of the two measurements)
    await confirmLoopback(baseline, rows);
    console.log(`loopback at the end: ${baseline.loopbackEndMBs!.toFixed(1)} MB/s; baseline ${baseline.loopbackMBs.toFixed(1)} MB/s`);
    const loadEnd = machineInfo().loadavg;
    const stat = (xs: number[]) => ({ median: median(xs), max: Math.max(...xs), samples: xs.length });
    const leaderStat = stat(rounds.map((r) => r.newLeaderMs));
    const produceStat = stat(rounds.map((r) => r.produceMs));
    const rejoinStat = stat(rounds.map((r) => r.rejoinMs));
    const timings = [
      { measure: `start: spawn \`minikafka start --brokers ${BROKERS}\` until it prints bootstrap`, median: bootstrapMs, max: bootstrapMs, samples: 1, aim: '' },
      { measure: 'start: spawn until an acks=all produce to a new RF 3 topic succeeds', median: firstProduceMs, max: firstProduceMs, samples: 1, aim: `< ${START_AIM_MS / 1000} s: ${firstProduceMs < START_AIM_MS ? 'met' : 'missed'}` },
      { measure: 'failover: kill -9 of the leader until Metadata names a new leader', ...leaderStat, aim: `< ${FAILOVER_AIM_MS / 1000} s: ${leaderStat.max < FAILOVER_AIM_MS ? 'met' : leaderStat.median < FAILOVER_AIM_MS ? 'met by the median' : 'missed'}` },
      { measure: 'failover: kill -9 of the leader until an acks=all produce succeeds', ...produceStat, aim: '' },
      { measure: 'restart of the killed broker until the ISR is full again', ...rejoinStat, aim: '' },
    ];
    console.log('');
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadavg.join(' ')} at start, ${loadEnd.join(' ')} at end`);
    console.log(throughputTable(rows));
    console.log('');
    console.log(
      renderTable(
        ['time', 'median', 'max', 'samples', 'aim'],
        timings.map((t) => [t.measure, fmtMs(t.median), t.samples > 1 ? fmtMs(t.max) : '—', String(t.samples), t.aim]),
        [false, true, true, true, false],
      ),
    );
    console.log('');
    console.log(`MB/s counts record values; "vs loopback" is that over the loopback baseline of this run (the larger of two`);
    console.log(`measurements, at the start and the end). ${BROKERS} brokers from`);
    console.log(`\`minikafka start\`; produce p50/p99 are per request with up to ${WINDOW} in flight (acks=all waits for all 3 replicas).`);
    console.log(`Failover: ${FAILOVER_ROUNDS} rounds of kill -9 of the leader of an RF 3 topic with min.insync.replicas=2.`);

    const out = {
      name: 'cluster',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: loadEnd },
      settings: { brokers: BROKERS, caseMs: CASE_MS, window: WINDOW, failoverRounds: FAILOVER_ROUNDS, mbIs: '1e6 bytes of record values', crc32c: crc32cImplementation },
      baseline: { loopbackMBs: baseline.loopbackMBs, loopbackStartMBs: baseline.loopbackStartMBs, loopbackEndMBs: baseline.loopbackEndMBs, loopbackBytes: baseline.loopbackBytes, loopbackSeconds: baseline.loopbackSeconds },
      start: { bootstrapMs, firstAcksAllProduceMs: firstProduceMs, aimMs: START_AIM_MS },
      rows,
      failover: { rounds, newLeaderMs: leaderStat, acksAllProduceMs: produceStat, rejoinMs: rejoinStat, aimMs: FAILOVER_AIM_MS },
      timings,
      totalSeconds: (performance.now() - started) / 1000,
    };
    console.log(`wrote ${writeResults('cluster', out)} (${out.totalSeconds.toFixed(1)} s)`);
  } catch (err) {
    console.error(`cluster output:\n${cli.output()}`);
    throw err;
  } finally {
    conns.closeAll();
    await cli.stop();
  }
}

runBench('cluster', WATCHDOG_MS, main);
