// Scale benchmark: `npm run bench:scale` (or `node esbuild.mjs && node dist/bench/scale.js [options]`).
//
// What many idle partitions cost a 3-broker mini-cluster (`minikafka start --brokers 3` as real processes):
//   1. baseline, in the same run: a fresh cluster with no other topics; produce/consume throughput of one hot
//      RF 3 partition (acks=all, 100 B × 1000 per batch, 32 requests in flight; then Fetch from 0 to the end);
//   2. a second fresh cluster; creates --topics topics × --partitions partitions, RF 3, in CreateTopics requests of
//      --batch topics (our own wire client), and times it until every partition has a leader in Metadata;
//   3. idle for --idle-seconds: CPU of the supervisor and of each broker from /proc/<pid>/stat (utime + stime, so
//      process CPU time, not wall time: other work on the machine does not inflate it), RSS from /proc/<pid>/status,
//      open file descriptors (entries of /proc/<pid>/fd: segment files, index files, sockets), and partition changes while idle (the sum of every partition epoch, which the controller bumps on each leader
//      or ISR change, before and after);
//   4. the same hot-partition throughput as in 1 (the ratio is what the idle partitions cost);
//   5. failover, --failover-rounds times (5; the first is cold, the takeover code runs for the first time), each on a
//      settled cluster (no metadata change for SETTLE_MS: the previous round's rejoin of thousands of ISRs is over, so
//      a kill is one fault, not one in the middle of another): kill -9 of the hot partition's leader (which also leads about a third of all partitions) until a surviving broker's
//      Metadata names a live leader for the hot partition, until an acks=all produce to it succeeds, and until every
//      partition is led; the same rounds on the baseline cluster of 1. give the one-topic figures of the same run;
//   6. controlled stop of the whole cluster (SIGTERM to `minikafka start` until it exits), then restart on the same
//      data dir until `bootstrap:` and until every partition has a leader again.
// Prints a table and writes bench/results/scale.json.
//
// Options: --topics N (default 1000), --partitions N per topic (3), --partitions-total N (sets --topics to
// N / partitions, e.g. 10000), --batch N topics per CreateTopics (100), --idle-seconds N (30), --failover-rounds N (5),
// --no-baseline.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ControlClient } from '../src/broker/cluster/controlClient';
import { WireClient } from '../src/broker/wireClient';
import { CreateTopics, Fetch, Metadata, Produce } from '../src/protocol/apis';
import { ErrorCode, errorName } from '../src/protocol/errorCode';
import { buildBatch } from '../src/protocol/records/recordBatch';
import { Cli, fmtMs, machineInfo, machineLine, pipelinedProduce, renderTable, runBench, sleep, startCli, tempDir, withTimeout, writeResults, createTopic, MB } from './lib';

// ------------------------------------------------------------------------------------------------ options

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const PARTITIONS = option('partitions', 3);
const TOPICS = process.argv.includes('--partitions-total') ? Math.ceil(option('partitions-total', 3000) / PARTITIONS) : option('topics', 1000);
const BATCH = option('batch', 100);
const IDLE_SECONDS = option('idle-seconds', 30);
const BASELINE = !process.argv.includes('--no-baseline');
const FAILOVER_ROUNDS = option('failover-rounds', 5);
const CASE_MS = Number(process.env.BENCH_CASE_MS ?? 3000);
const BROKERS = 3;
const WINDOW = 32;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
const WATCHDOG_MS = Number(process.env.BENCH_WATCHDOG_MS ?? 30 * 60_000);
/** BENCH_SCALE_LOG=<file>: the clusters' whole output goes there at the end (with BENCH_SCALE_LOG_LEVEL, default warn). */
const LOG_FILE = process.env.BENCH_SCALE_LOG;
const LOG_LEVEL = process.env.BENCH_SCALE_LOG_LEVEL ?? 'warn';
const clis: Cli[] = [];
process.on('exit', () => {
  if (LOG_FILE) writeFileSync(LOG_FILE, clis.map((c) => c.output()).join('\n----- next cluster -----\n'));
});

// ------------------------------------------------------------------------------------------------ /proc

/** utime + stime of a process, in seconds of CPU. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5), counted from state (3)
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) * 1024) / MB : NaN;
}

/** Open file descriptors of a process: what `ulimit -n` caps (each partition replica used to hold three). */
function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN; // not Linux, or the process is gone
  }
}

// ------------------------------------------------------------------------------------------------ cluster helpers

interface Cluster {
  cli: Cli;
  dir: string;
  control: ControlClient;
  clients: Map<number, WireClient>;
}

async function startCluster(dir: string, timeoutMs = 120_000): Promise<{ cluster: Cluster; bootstrapMs: number }> {
  const t = performance.now();
  const cli = await startCli(['start', '--brokers', String(BROKERS), '--port', '0', '--dir', dir, '--log-level', LOG_LEVEL], timeoutMs);
  clis.push(cli);
  const bootstrapMs = performance.now() - t;
  return { cluster: { cli, dir, control: ControlClient.forDir(dir), clients: new Map() }, bootstrapMs };
}

async function client(c: Cluster, id: number): Promise<WireClient> {
  const open = c.clients.get(id);
  if (open?.isOpen) return open;
  const state = await c.control.state();
  const b = state.brokers.find((x) => x.id === id);
  if (!b) throw new Error(`no broker ${id}`);
  const wc = new WireClient('127.0.0.1', b.port, 'bench-scale');
  await wc.connect(5000);
  c.clients.set(id, wc);
  return wc;
}

function closeClients(c: Cluster): void {
  for (const wc of c.clients.values()) wc.close();
  c.clients.clear();
}

/** Every topic's partitions as the broker behind `wc` sees them (Metadata v9 of all topics). */
async function allPartitions(wc: WireClient) {
  const md = await wc.request(Metadata, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 30000);
  return md.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, errorCode: t.errorCode || p.errorCode, leader: p.leaderId, isr: p.isrNodes })));
}

/** Polls until the broker behind `wc` names a leader (not in `notLeaders`) for `expected` partitions of bench topics. */
async function waitAllLed(wc: () => Promise<WireClient>, expected: number, timeoutMs: number, notLeaders: number[] = []): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    try {
      const ps = (await allPartitions(await wc())).filter((p) => (p.topic ?? '').startsWith('scale-'));
      const led = ps.filter((p) => p.errorCode === 0 && p.leader >= 0 && !notLeaders.includes(p.leader)).length;
      if (ps.length >= expected && led === expected) return;
      last = `${led} of ${expected} led`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(20);
  }
  throw new Error(`not every partition had a leader within ${timeoutMs} ms (${last})`);
}

// ------------------------------------------------------------------------------------------------ measurements

async function createTopics(c: Cluster): Promise<{ seconds: number; createdSeconds: number; requests: number; slowestRequestMs: number }> {
  const wc = await client(c, 1);
  const t0 = performance.now();
  logMonotonic('creation starts');
  let slowest = 0;
  let requests = 0;
  for (let start = 0; start < TOPICS; start += BATCH) {
    const names = Array.from({ length: Math.min(BATCH, TOPICS - start) }, (_, i) => `scale-${String(start + i).padStart(5, '0')}`);
    const t = performance.now();
    const res = await wc.request(
      CreateTopics,
      5,
      { topics: names.map((name) => ({ name, numPartitions: PARTITIONS, replicationFactor: 3, assignments: [], configs: [] })), timeoutMs: 120_000, validateOnly: false },
      180_000,
    );
    slowest = Math.max(slowest, performance.now() - t);
    requests++;
    const bad = res.topics.find((x) => x.errorCode !== 0);
    if (bad) throw new Error(`CreateTopics ${bad.name}: ${errorName(bad.errorCode)} ${bad.errorMessage ?? ''}`);
    if (requests % 5 === 0) console.log(`  created ${start + names.length} topics after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const createdSeconds = (performance.now() - t0) / 1000;
  await waitAllLed(() => client(c, 1), TOPICS * PARTITIONS, 300_000);
  return { seconds: (performance.now() - t0) / 1000, createdSeconds, requests, slowestRequestMs: slowest };
}

interface ProcessFigures {
  name: string;
  pid: number;
  cpuPct: number;
  rssMB: number;
  openFds: number;
}

async function idle(c: Cluster): Promise<{ processes: ProcessFigures[]; totalCpuPct: number; partitionChanges: number; metadataEpochs: number; seconds: number }> {
  const state = await c.control.state();
  const pids = [{ name: 'supervisor', pid: state.supervisor!.pid }, ...state.brokers.map((b) => ({ name: `broker ${b.id}`, pid: b.pid! }))];
  const epochSum = (s: typeof state) => s.topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.partitionEpoch, 0), 0);
  const before = pids.map((p) => cpuSeconds(p.pid));
  const t0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const after = pids.map((p) => cpuSeconds(p.pid));
  const seconds = (performance.now() - t0) / 1000;
  const end = await c.control.state();
  const processes = pids.map((p, i) => ({ ...p, cpuPct: (100 * (after[i] - before[i])) / seconds, rssMB: rssMB(p.pid), openFds: openFds(p.pid) }));
  return {
    processes,
    totalCpuPct: processes.reduce((n, p) => n + p.cpuPct, 0),
    partitionChanges: epochSum(end) - epochSum(state),
    metadataEpochs: end.metadataEpoch - state.metadataEpoch,
    seconds,
  };
}

/** Fetches from offset 0 up to endOffset, one request in flight, 32 MiB per response; returns records/s and MB/s. */
async function consumeAll(wc: WireClient, topic: string, endOffset: number, valueSize: number): Promise<{ recordsPerSec: number; mbPerSec: number }> {
  let offset = 0;
  let records = 0;
  const t0 = performance.now();
  while (offset < endOffset) {
    const res = await wc.request(Fetch, 12, {
      clusterId: null,
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 32 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 32 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch ${topic}@${offset}: ${errorName(p.errorCode)}`);
    const data = p.records;
    if (!data || data.length === 0) throw new Error(`fetch ${topic}@${offset}: no data below ${endOffset}`);
    let pos = 0;
    // Batch headers only: BaseOffset int64 @0, Length int32 @8, LastOffsetDelta @23, RecordsCount @57.
    while (pos + 61 <= data.length) {
      const size = data.readInt32BE(pos + 8) + 12;
      if (pos + size > data.length) break;
      records += data.readInt32BE(pos + 57);
      offset = Number(data.readBigInt64BE(pos)) + data.readInt32BE(pos + 23) + 1;
      pos += size;
    }
    if (pos === 0) throw new Error(`fetch ${topic}@${offset}: no whole batch`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { recordsPerSec: records / seconds, mbPerSec: (records * valueSize) / MB / seconds };
}

interface HotFigures {
  produceRecordsPerSec: number;
  produceMBs: number;
  produceP50Ms: number;
  consumeRecordsPerSec: number;
  consumeMBs: number;
}

/** Partition 0's leader of `topic`, from a Metadata request naming only that topic (cheap at any partition count). */
async function leaderOf(c: Cluster, topic: string, ask = 1): Promise<number> {
  const md = await (await client(c, ask)).request(Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 30000);
  const t = md.topics[0];
  const p = t?.partitions.find((x) => x.partitionIndex === 0);
  return t && t.errorCode === 0 && p && p.errorCode === 0 ? p.leaderId : -1;
}

async function hotPartition(c: Cluster): Promise<HotFigures> {
  await createTopic(await client(c, 1), 'hot', 3, { 'min.insync.replicas': '2' }, { fullIsr: true, timeoutMs: 60_000 });
  const leader = await leaderOf(c, 'hot');
  const wc = await client(c, leader);
  const value = Buffer.alloc(100, 0x61);
  const batch = buildBatch({ records: Array.from({ length: 1000 }, () => ({ value })) });
  logMonotonic(`hot produce to leader ${leader} starts`);
  const run = await withTimeout(pipelinedProduce(wc, 'hot', batch, 1000, 100_000, -1, CASE_MS, WINDOW), CASE_MS + 60_000, 'hot produce');
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const consumed = await withTimeout(consumeAll(wc, 'hot', run.records, 100), 120_000, 'hot consume');
  return {
    produceRecordsPerSec: run.records / run.seconds,
    produceMBs: run.valueBytes / MB / run.seconds,
    produceP50Ms: sorted[sorted.length >> 1],
    consumeRecordsPerSec: consumed.recordsPerSec,
    consumeMBs: consumed.mbPerSec,
  };
}

/** One acks=all produce to `topic` partition 0, retried (with fresh metadata) until it succeeds. */
async function produceUntilAcked(c: Cluster, topic: string, askIds: number[], deadline: number): Promise<void> {
  let last = '';
  while (performance.now() < deadline) {
    try {
      let leader = -1;
      for (const id of askIds) {
        leader = await leaderOf(c, topic, id).catch(() => -1);
        if (leader >= 0) break;
      }
      if (leader >= 0) {
        const wc = await client(c, leader);
        const res = await wc.request(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: topic, partitionData: [{ index: 0, records: buildBatch({ records: [{ value: Buffer.alloc(100, 0x66) }] }) }] }] }, 15000);
        const code = res.responses[0].partitionResponses[0].errorCode;
        if (code === 0) return;
        last = errorName(code);
        if (code !== ErrorCode.NOT_LEADER_OR_FOLLOWER && code !== ErrorCode.NOT_ENOUGH_REPLICAS && code !== ErrorCode.LEADER_NOT_AVAILABLE && code !== ErrorCode.FENCED_LEADER_EPOCH && code !== ErrorCode.REQUEST_TIMED_OUT) throw new Error(`produce: ${last}`);
      } else last = 'no leader';
    } catch (err) {
      if ((err as Error).message.startsWith('produce:')) throw err;
      last = (err as Error).message;
    }
    await sleep(1);
  }
  throw new Error(`no acks=all produce to ${topic} succeeded in time (${last})`);
}

interface FailoverFigures {
  killed: number;
  /** Until a survivor's Metadata for the hot topic alone names a live leader (the one-topic cluster bench's figure). */
  hotLedMs: number;
  allLedMs: number;
  /** One Metadata round trip for every topic, after the failover: the granularity of allLedMs. */
  fullMetadataMs: number;
  produceMs: number;
  rejoinMs: number;
  error?: string;
}

/** With a log (BENCH_SCALE_LOG): when `what` happens on the monotonic clock that CPU profiles (--cpu-prof) use too. */
function logMonotonic(what: string): void {
  if (LOG_FILE) console.log(`  ${what} at monotonic ${(process.hrtime.bigint() / 1000n).toString()} µs`);
}

/** A failover round starts once the metadata epoch has not moved for this long. */
const SETTLE_MS = 1000;

/** Until the metadata epoch has not moved for SETTLE_MS (at most 60 s). */
async function settled(c: Cluster): Promise<void> {
  const deadline = performance.now() + 60_000;
  let epoch = (await c.control.state()).metadataEpoch;
  let since = performance.now();
  while (performance.now() - since < SETTLE_MS) {
    if (performance.now() > deadline) throw new Error(`the metadata kept changing for 60 s (epoch ${epoch})`);
    await sleep(100);
    const now = (await c.control.state()).metadataEpoch;
    if (now !== epoch) {
      epoch = now;
      since = performance.now();
    }
  }
}

async function failover(c: Cluster, scalePartitions: number): Promise<FailoverFigures> {
  await settled(c);
  const killed = await leaderOf(c, 'hot');
  const survivors = [1, 2, 3].filter((id) => id !== killed);
  for (const id of survivors) await client(c, id);
  const t0 = performance.now();
  logMonotonic(`kill of broker ${killed}`);
  // Not waited for: the control API answers once the process is gone, and clients do not wait for that.
  const killAnswered = c.control.broker(killed, 'kill');
  c.clients.get(killed)?.close();
  c.clients.delete(killed);
  // One after the other, cheapest first, so that no probe's own work (decoding a Metadata of every partition) delays
  // another: each figure is the time from the kill until it held.
  let hotLedMs = NaN;
  while (performance.now() < t0 + 60_000) {
    const leader = await leaderOf(c, 'hot', survivors[1]).catch(() => -1);
    if (leader >= 0 && leader !== killed) {
      hotLedMs = performance.now() - t0;
      break;
    }
    await sleep(1);
  }
  await produceUntilAcked(c, 'hot', survivors, t0 + 60_000);
  const produceMs = performance.now() - t0;
  await waitAllLed(() => client(c, survivors[0]), scalePartitions, 60_000, [killed]);
  const allLedMs = performance.now() - t0;
  const tm = performance.now();
  await allPartitions(await client(c, survivors[0]));
  const fullMetadataMs = performance.now() - tm;
  // Back: the restarted broker reopens (recovers) every replica it holds and catches up; measured until every
  // partition's ISR is full again, so that the stop below measures an idle cluster, not one still loading.
  await killAnswered;
  const t1 = performance.now();
  await withTimeout(c.control.broker(killed, 'restart'), 120_000, `restart of broker ${killed}`);
  const deadline = performance.now() + 300_000;
  for (;;) {
    const s = await c.control.state();
    const behind = s.topics.reduce((n, t) => n + t.partitions.filter((p) => p.isr.length < p.replicas.length || p.leader < 0).length, 0);
    if (behind === 0 && s.brokers.every((b) => b.state === 'running' && !b.fenced)) break;
    if (performance.now() > deadline) throw new Error(`${behind} partitions without a full ISR 300 s after restarting broker ${killed}`);
    await sleep(250);
  }
  return { killed, hotLedMs, allLedMs, fullMetadataMs, produceMs, rejoinMs: performance.now() - t1 };
}

interface FailoverRounds {
  rounds: FailoverFigures[];
  /** Medians over the rounds that succeeded (the first is the cold one: the takeover code runs for the first time). */
  hotLedMs: number;
  produceMs: number;
  allLedMs: number;
  error?: string;
}

/** FAILOVER_ROUNDS failovers in a row, each of the hot partition's leader at that time, each broker back before the next. */
async function failoverRounds(c: Cluster, scalePartitions: number): Promise<FailoverRounds> {
  const rounds: FailoverFigures[] = [];
  for (let i = 0; i < FAILOVER_ROUNDS; i++) {
    // A failed failover is a figure too (recorded; what follows is still measured).
    const fo = await failover(c, scalePartitions).catch((err: Error) => ({ killed: -1, hotLedMs: NaN, allLedMs: NaN, fullMetadataMs: NaN, produceMs: NaN, rejoinMs: NaN, error: err.message }));
    console.log(`  failover ${i + 1} of broker ${fo.killed}: hot partition led ${fmtMs(fo.hotLedMs)}, all led ${fmtMs(fo.allLedMs)} (one full Metadata ${fmtMs(fo.fullMetadataMs)}), acks=all ${fmtMs(fo.produceMs)}, restart ${fmtMs(fo.rejoinMs)}${fo.error ? ` FAILED: ${fo.error}` : ''}`);
    rounds.push(fo);
    if (fo.error) break;
  }
  const ok = rounds.filter((r) => !r.error);
  const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[xs.length >> 1]);
  return {
    rounds,
    hotLedMs: median(ok.map((r) => r.hotLedMs)),
    produceMs: median(ok.map((r) => r.produceMs)),
    allLedMs: median(ok.map((r) => r.allLedMs)),
    error: rounds.find((r) => r.error)?.error,
  };
}

const roundsText = (f: FailoverRounds) => f.rounds.map((r) => (r.error ? 'failed' : `${fmtMs(r.hotLedMs)}/${fmtMs(r.produceMs)}`)).join(', ');

/** SIGTERM to `minikafka start` until the process is gone (the supervisor stops every broker first). */
async function stopCluster(c: Cluster): Promise<number> {
  closeClients(c);
  const exited = new Promise<void>((resolve) => (c.cli.child.exitCode !== null ? resolve() : c.cli.child.once('exit', () => resolve())));
  const t0 = performance.now();
  process.kill(c.cli.child.pid!, 'SIGTERM');
  await withTimeout(exited, 120_000, 'controlled stop of the cluster');
  const ms = performance.now() - t0;
  await c.cli.stop(0);
  return ms;
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const machine = machineInfo();
  console.log(machineLine(machine));
  console.log(`scale: ${TOPICS} topics × ${PARTITIONS} partitions (${TOPICS * PARTITIONS}), RF 3, ${BATCH} topics per CreateTopics, idle ${IDLE_SECONDS} s`);
  const started = performance.now();

  let baseline: HotFigures | undefined;
  let baselineIdle: Awaited<ReturnType<typeof idle>> | undefined;
  let baselineFailover: FailoverRounds | undefined;
  if (BASELINE) {
    const { cluster } = await startCluster(tempDir('minikafka-bench-scale0-'));
    try {
      baseline = await hotPartition(cluster);
      console.log(`baseline (no other topics): produce ${Math.round(baseline.produceRecordsPerSec)} records/s, consume ${Math.round(baseline.consumeRecordsPerSec)} records/s`);
      baselineIdle = await idle(cluster);
      console.log(`baseline idle: ${baselineIdle.totalCpuPct.toFixed(2)} % of one core`);
      baselineFailover = await failoverRounds(cluster, 0);
    } finally {
      closeClients(cluster);
      await cluster.cli.stop();
    }
  }

  const dir = tempDir('minikafka-bench-scale-');
  let { cluster: c, bootstrapMs: firstStartMs } = await startCluster(dir);
  try {
    console.log(`cluster up after ${Math.round(firstStartMs)} ms; creating topics`);
    const created = await createTopics(c);
    console.log(`created ${TOPICS} topics in ${created.createdSeconds.toFixed(2)} s; all led after ${created.seconds.toFixed(2)} s`);
    await sleep(3000); // settle: followers' first fetches, ISR bookkeeping
    const idleFigures = await idle(c);
    console.log(`idle: ${idleFigures.totalCpuPct.toFixed(2)} % of one core; ${idleFigures.partitionChanges} partition changes`);
    const hot = await hotPartition(c);
    console.log(`hot partition among ${TOPICS * PARTITIONS}: produce ${Math.round(hot.produceRecordsPerSec)} records/s, consume ${Math.round(hot.consumeRecordsPerSec)} records/s`);
    const fos = await failoverRounds(c, TOPICS * PARTITIONS);
    const fo = fos.rounds[0] as FailoverFigures | undefined;
    const stopMs = await stopCluster(c);
    console.log(`controlled stop: ${fmtMs(stopMs)}`);
    const t = performance.now();
    ({ cluster: c } = await startCluster(dir, 300_000));
    const restartBootstrapMs = performance.now() - t;
    await waitAllLed(() => client(c, 1), TOPICS * PARTITIONS, 300_000);
    const restartAllLedMs = performance.now() - t;
    console.log(`restart: bootstrap ${fmtMs(restartBootstrapMs)}, all led ${fmtMs(restartAllLedMs)}`);
    const stop2Ms = await stopCluster(c);

    const loadEnd = machineInfo().loadavg;
    const pct = (x: number) => `${x.toFixed(2)} %`;
    const rows: string[][] = [
      ['create topics (CreateTopics of ' + BATCH + ')', `${(TOPICS / created.createdSeconds).toFixed(1)} topics/s`, `${created.createdSeconds.toFixed(2)} s for ${TOPICS}; every partition led after ${created.seconds.toFixed(2)} s; slowest request ${fmtMs(created.slowestRequestMs)}`],
      ...idleFigures.processes.map((p) => [`idle CPU, ${p.name} (pid ${p.pid})`, pct(p.cpuPct), `RSS ${p.rssMB.toFixed(0)} MB, ${p.openFds.toLocaleString('en-US')} open fds`]),
      ['idle CPU, whole cluster', pct(idleFigures.totalCpuPct), baselineIdle ? `no other topics: ${pct(baselineIdle.totalCpuPct)}` : ''],
      ['partition changes while idle', String(idleFigures.partitionChanges), `${idleFigures.metadataEpochs} metadata epochs in ${idleFigures.seconds.toFixed(0)} s`],
      ['hot partition produce, acks=all', `${Math.round(hot.produceRecordsPerSec).toLocaleString('en-US')} rec/s`, baseline ? `no other topics: ${Math.round(baseline.produceRecordsPerSec).toLocaleString('en-US')} rec/s (ratio ${(hot.produceRecordsPerSec / baseline.produceRecordsPerSec).toFixed(2)})` : ''],
      ['hot partition consume', `${Math.round(hot.consumeRecordsPerSec).toLocaleString('en-US')} rec/s`, baseline ? `no other topics: ${Math.round(baseline.consumeRecordsPerSec).toLocaleString('en-US')} rec/s (ratio ${(hot.consumeRecordsPerSec / baseline.consumeRecordsPerSec).toFixed(2)})` : ''],
      // (--failover-rounds 0: no failover rows, e.g. to profile the hot partition's leader, which a failover kills.)
      ...(fo ? [[`failover: kill -9 of the hot leader, hot partition led (median of ${fos.rounds.length})`, fos.error ? 'failed' : fmtMs(fos.hotLedMs), fos.error ?? `acks=all produce ${fmtMs(fos.produceMs)}; every partition led ${fmtMs(fos.allLedMs)} (one full Metadata ${fmtMs(fo.fullMetadataMs)}); rounds (hot led/acks=all): ${roundsText(fos)}; restart of the broker until every ISR is full ${fmtMs(fo.rejoinMs)}`]] : []),
      ...(fo && baselineFailover?.rounds.length ? [['failover, no other topics (same run)', baselineFailover.error ? 'failed' : fmtMs(baselineFailover.hotLedMs), baselineFailover.error ?? `acks=all produce ${fmtMs(baselineFailover.produceMs)}; rounds (hot led/acks=all): ${roundsText(baselineFailover)}; ratio at scale: hot led ${(fos.hotLedMs / baselineFailover.hotLedMs).toFixed(2)}, acks=all ${(fos.produceMs / baselineFailover.produceMs).toFixed(2)}`]] : []),
      ['controlled stop of the cluster', fmtMs(stopMs), `second stop (after restart): ${fmtMs(stop2Ms)}`],
      ['restart: until bootstrap', fmtMs(restartBootstrapMs), `first start of the empty cluster: ${fmtMs(firstStartMs)}`],
      ['restart: until every partition is led', fmtMs(restartAllLedMs), ''],
    ];
    console.log('');
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadavg.join(' ')} at start, ${loadEnd.join(' ')} at end`);
    console.log(`${TOPICS} topics × ${PARTITIONS} partitions = ${TOPICS * PARTITIONS} partitions, RF 3, 3 brokers`);
    console.log(renderTable(['measure', 'value', 'detail'], rows, [false, true, false]));
    const out = {
      name: 'scale',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: loadEnd },
      settings: { topics: TOPICS, partitionsPerTopic: PARTITIONS, partitions: TOPICS * PARTITIONS, batch: BATCH, idleSeconds: IDLE_SECONDS, caseMs: CASE_MS, brokers: BROKERS },
      create: { ...created, topicsPerSec: TOPICS / created.createdSeconds },
      idle: idleFigures,
      baselineIdle,
      hot,
      baseline,
      failover: fos,
      baselineFailover,
      stopMs,
      stop2Ms,
      restart: { bootstrapMs: restartBootstrapMs, allLedMs: restartAllLedMs },
      firstStartMs,
      rows,
      totalSeconds: (performance.now() - started) / 1000,
    };
    console.log(`wrote ${writeResults(process.env.BENCH_SCALE_RESULT ?? 'scale', out)} (${out.totalSeconds.toFixed(0)} s)`);
  } catch (err) {
    console.error(`cluster output:\n${c.cli.output().slice(-5000)}`);
    throw err;
  } finally {
    closeClients(c);
    await c.cli.stop();
  }
}

runBench('scale', WATCHDOG_MS, main);
