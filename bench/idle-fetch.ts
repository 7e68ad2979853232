// Broker data path at scale: what idle partitions cost the brokers. `node esbuild.mjs && node dist/bench/idle-fetch.js`
//
// Starts a 3-broker cluster (`minikafka start --brokers 3`), measures the produce
// throughput of one hot RF 3 partition (acks=all) with no other topics (the baseline, same run), creates
// IDLE_TOPICS topics × IDLE_PARTITIONS partitions RF 3 in batched CreateTopics requests, waits for every ISR to be
// full, then for IDLE_S seconds with no traffic samples each process's CPU (utime+stime from /proc/<pid>/stat) and
// counts partition changes (leader or ISR: the sum of partition epochs, which the controller bumps on each). Finally the hot partition's throughput again, next to 1,000 idle topics.
// Environment: IDLE_TOPICS (1000), IDLE_PARTITIONS (3), IDLE_S (30), HOT_MS (3000), BATCH_TOPICS (100).
// Prints a table and writes bench/results/idle-fetch.json.

import { readFileSync } from 'node:fs';
import { ControlClient } from '../src/broker/cluster/controlClient';
import type { ClusterState } from '../src/broker/cluster/supervisor';
import { WireClient } from '../src/broker/wireClient';
import { CreateTopics } from '../src/protocol/apis';
import { errorName } from '../src/protocol/errorCode';
import { buildBatch } from '../src/protocol/records/recordBatch';
import { createTopic, fmtInt, machineInfo, machineLine, pipelinedProduce, renderTable, runBench, sleep, startCli, tempDir, topicMetadata, writeResults } from './lib';

const IDLE_TOPICS = Number(process.env.IDLE_TOPICS ?? 1000);
const IDLE_PARTITIONS = Number(process.env.IDLE_PARTITIONS ?? 3);
const IDLE_S = Number(process.env.IDLE_S ?? 30);
const HOT_MS = Number(process.env.HOT_MS ?? 3000);
const BATCH_TOPICS = Number(process.env.BATCH_TOPICS ?? 100);
const CLK_TCK = 100; // Linux USER_HZ

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15 of the whole line)
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const partitionEpochSum = (s: ClusterState) => s.topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.partitionEpoch, 0), 0);

function allFull(s: ClusterState, expectedPartitions: number): boolean {
  let n = 0;
  for (const t of s.topics) {
    for (const p of t.partitions) {
      if (p.leader < 0 || p.isr.length !== p.replicas.length) return false;
      n++;
    }
  }
  return n >= expectedPartitions;
}

async function hotThroughput(bootstrap: string, topic: string): Promise<number> {
  const boot = new WireClient(bootstrap.split(':')[0], Number(bootstrap.split(':')[1]));
  await boot.connect();
  const { brokers, topic: md } = await topicMetadata(boot, topic);
  boot.close();
  const leader = brokers.find((b) => b.nodeId === md.partitions[0].leaderId)!;
  const c = new WireClient(leader.host, leader.port);
  await c.connect();
  const batch = buildBatch({ records: Array.from({ length: 100 }, () => ({ value: Buffer.alloc(100, 0x61) })) });
  const run = await pipelinedProduce(c, topic, batch, 100, 10_000, -1, HOT_MS, 16);
  c.close();
  return run.records / run.seconds;
}

runBench('idle-fetch', 30 * 60_000, async () => {
  const dir = tempDir('minikafka-idle-fetch-');
  const cli = await startCli(['start', '--brokers', '3', '--port', '0', '--dir', dir, '--log-level', 'warn']);
  try {
    const control = ControlClient.forDir(dir);
    const [host, port] = cli.bootstrap.split(',')[0].split(':');
    const c = new WireClient(host, Number(port));
    await c.connect();
    console.error(`cluster in ${dir}`);
    await createTopic(c, 'hot', 3, { 'min.insync.replicas': '2' }, { fullIsr: true });
    const hotBefore = await hotThroughput(cli.bootstrap.split(',')[0], 'hot');

    const t0 = Date.now();
    for (let i = 0; i < IDLE_TOPICS; i += BATCH_TOPICS) {
      const names = Array.from({ length: Math.min(BATCH_TOPICS, IDLE_TOPICS - i) }, (_, j) => `idle-${String(i + j).padStart(5, '0')}`);
      const res = await c.request(
        CreateTopics,
        5,
        { topics: names.map((name) => ({ name, numPartitions: IDLE_PARTITIONS, replicationFactor: 3, assignments: [], configs: [] })), timeoutMs: 120_000, validateOnly: false },
        180_000,
      );
      const bad = res.topics.find((t) => t.errorCode !== 0);
      if (bad) throw new Error(`CreateTopics ${bad.name}: ${errorName(bad.errorCode)} ${bad.errorMessage ?? ''}`);
    }
    const created = Date.now() - t0;
    const expected = IDLE_TOPICS * IDLE_PARTITIONS + 1;
    let state = await control.state();
    while (!allFull(state, expected)) {
      if (Date.now() - t0 > 15 * 60_000) throw new Error('ISRs not full after 15 min');
      await sleep(500);
      state = await control.state();
    }
    const fullAt = Date.now() - t0;
    c.close();
    await sleep(3000); // let the creation's aftermath (metadata pushes, first fetches) settle

    const pids = [{ name: 'supervisor', pid: cli.child.pid! }, ...state.brokers.map((b) => ({ name: `broker ${b.id}`, pid: b.pid! }))];
    const epochsBefore = partitionEpochSum(await control.state());
    const cpu0 = pids.map((p) => cpuSeconds(p.pid));
    const w0 = Date.now();
    await sleep(IDLE_S * 1000);
    const wall = (Date.now() - w0) / 1000;
    const cpu = pids.map((p, i) => (cpuSeconds(p.pid) - cpu0[i]) / wall);
    const isrIdle = partitionEpochSum(await control.state()) - epochsBefore;
    const rss = pids.map((p) => rssMB(p.pid));

    const hotAfter = await hotThroughput(cli.bootstrap.split(',')[0], 'hot');

    console.log(machineLine(machineInfo()));
    console.log(`${IDLE_TOPICS} topics × ${IDLE_PARTITIONS} partitions RF 3 (${fmtInt(expected - 1)} idle partitions): created in ${(created / 1000).toFixed(1)} s, every ISR full after ${(fullAt / 1000).toFixed(1)} s`);
    console.log(`idle for ${wall.toFixed(1)} s: ${isrIdle} partition change(s) (leader or ISR)`);
    const rows = pids.map((p, i) => [p.name, `${(cpu[i] * 100).toFixed(1)} %`, `${rss[i].toFixed(0)} MB`]);
    rows.push(['whole cluster', `${(cpu.reduce((a, b) => a + b, 0) * 100).toFixed(1)} %`, `${rss.reduce((a, b) => a + b, 0).toFixed(0)} MB`]);
    console.log(renderTable(['process', 'idle CPU (of one core)', 'RSS'], rows, [false, true, true]));
    console.log(
      renderTable(
        ['hot partition, acks=all, 100 B × 100/batch, 16 in flight', 'records/s'],
        [
          ['no other topics (baseline)', fmtInt(hotBefore)],
          [`with ${fmtInt(expected - 1)} idle partitions`, fmtInt(hotAfter)],
          ['ratio', (hotAfter / hotBefore).toFixed(2)],
        ],
        [false, true],
      ),
    );
    writeResults('idle-fetch', {
      machine: machineInfo(),
      idleTopics: IDLE_TOPICS,
      idlePartitionsPerTopic: IDLE_PARTITIONS,
      createdMs: created,
      fullIsrMs: fullAt,
      idleSeconds: wall,
      partitionChangesIdle: isrIdle,
      idleCpu: Object.fromEntries(pids.map((p, i) => [p.name, cpu[i]])),
      rssMB: Object.fromEntries(pids.map((p, i) => [p.name, rss[i]])),
      hotRecordsPerSec: { baseline: hotBefore, withIdle: hotAfter },
    });
  } catch (err) {
    // The cluster's log without its per-partition leader and ISR lines, which would bury the rest.
    const lines = cli.output().split('\n').filter((l) => !/: leader \S+ -> |: ISR \[|asking controller for ISR/.test(l));
    console.error(lines.slice(-60).join('\n'));
    throw err;
  } finally {
    await cli.stop(30_000);
  }
});
