// Failover with many partitions: three brokers, 300 partitions with replication factor 3 and min.insync.replicas 2,
// idempotent acks=all producers (kafkajs) writing to partitions all over the cluster, and kill -9 of the broker that
// leads the most partitions while they write. Then: every partition has a live leader within a bound, the writers go
// on (the broker is restarted meanwhile and catches up), and reading every partition back from its leader finds each
// acknowledged message exactly once, on the partition it was sent to, in the order each lane had it acknowledged,
// and no message twice at all (the producers are idempotent: their retries must not duplicate).
//
// FAILOVER_SEED (default 1) picks the victim among brokers tied for the most leaderships, when to kill it, how long it
// stays down, and which partitions each send writes to. A failure names the seed. About 10-15 s a run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Producer } from 'kafkajs';
import type { ClusterState } from '../../src/broker/cluster/supervisor';
import { WireClient } from '../../src/broker/wireClient';
import { assertAckedReadBack, PartitionValue } from '../helpers/acks';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { prng } from '../helpers/python';
import { readToHighWatermark } from '../helpers/wire';

const SEED = Number(process.env.FAILOVER_SEED ?? 1);
const TOPICS = 100;
const PARTITIONS = 3;
/**
 * Idempotent producers, each with LANES sends in flight (to different partitions, each lane one send at a time).
 * One lane per producer: with four concurrent sends per kafkajs (2.2.4) idempotent producer, a failover made kafkajs
 * resend a batch the dead leader had already replicated under a new sequence number (the log held the same three
 * values at sequence 0, written by the old leader, and at sequence 3, by the new one: the broker stores the sequence
 * the client sends) and, in another run, report batches as acknowledged that no replica held. Kafka clients give each
 * idempotent producer one ordered stream of batches per partition; kafkajs's sequence bookkeeping is not safe for
 * concurrent send() calls of one producer, so this test does not use them. It passed 3 of 3 runs per seed on the
 * branch this test came from and failed 2 of 3 runs of seed 1 on the merged tree, where timings differ.
 */
const PRODUCERS = 12;
const LANES = 1;
/** Messages per send; a send goes to one partition (see runLane). */
const MESSAGES_PER_SEND = 3;
/** Every partition must have a live leader again within this long after the kill (under a loaded test machine). */
const ALL_LED_BOUND_MS = 5000;

const topicName = (i: number) => `many-${String(i).padStart(3, '0')}`;

let cluster: TestCluster;
let kafka: Kafka;

before(async () => {
  cluster = await startTestCluster();
  kafka = new Kafka({ clientId: 'failover-many', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 1000 } });
});

after(async () => {
  // FAILOVER_KEEP=1 keeps the cluster's dir (data and logs) for a post-mortem.
  const keep = process.env.FAILOVER_KEEP === '1';
  await cluster?.stop(keep);
  if (keep && cluster) console.log(`kept ${cluster.dir}`);
});

function leadersPerBroker(state: ClusterState): Map<number, number> {
  const count = new Map<number, number>(state.brokers.map((b) => [b.id, 0]));
  for (const t of state.topics) for (const p of t.partitions) if (p.leader >= 0) count.set(p.leader, (count.get(p.leader) ?? 0) + 1);
  return count;
}

function everyPartitionLedBy(state: ClusterState, live: (id: number) => boolean): boolean {
  return state.topics.filter((t) => t.name.startsWith('many-')).every((t) => t.partitions.every((p) => p.leader >= 0 && live(p.leader)));
}

interface Sent extends PartitionValue {
  topic: string;
  /** The lane that sent it (its sends are sequential). */
  writer: number;
}

/**
 * One lane of an idempotent producer: sends of a few messages to one random partition each, acknowledged (acks=all)
 * or not. One partition per send, not a sendBatch across partitions: kafkajs (2.2.4) keeps a batch's per-broker
 * answers across its retries, so after a failover it counts the partitions that moved to a broker that had already
 * answered as sent without sending them (tulios/kafkajs#1303; PR #1798): a client bug this test would report as loss.
 */
async function runLane(producer: Producer, writer: number, rnd: () => number, stop: () => boolean, acked: Sent[], failures: string[]): Promise<void> {
  let seq = 0;
  while (!stop()) {
    const topic = topicName(Math.floor(rnd() * TOPICS));
    const partition = Math.floor(rnd() * PARTITIONS);
    const batch: Sent[] = Array.from({ length: MESSAGES_PER_SEND }, () => ({ topic, partition, writer, value: `w${writer}-${seq++}` }));
    try {
      await producer.send({ topic, acks: -1, timeout: 10000, messages: batch.map((m) => ({ value: m.value, partition })) });
      acked.push(...batch);
    } catch (err) {
      // Not acknowledged: each message may or may not be in the log, but at most once.
      failures.push((err as Error).message);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Every record of one partition, read from its leader up to the high watermark. */
async function readPartition(clients: Map<number, WireClient>, state: ClusterState, topic: string, partition: number): Promise<string[]> {
  const leader = state.topics.find((t) => t.name === topic)!.partitions[partition].leader;
  let c = clients.get(leader);
  if (!c) {
    const b = state.brokers.find((x) => x.id === leader)!;
    c = new WireClient(b.host, b.port, 'failover-many-reader');
    await c.connect();
    clients.set(leader, c);
  }
  return (await readToHighWatermark(c, topic, partition, `broker ${leader}`)).map((r) => r.value!);
}

describe(`failover with ${TOPICS * PARTITIONS} partitions (seed ${SEED}; FAILOVER_SEED=${SEED} to replay)`, () => {
  test('kill -9 of the broker leading the most partitions under idempotent acks=all writes: all led soon, each acknowledged write read back exactly once', async (t) => {
    // Consecutive small seeds start mulberry32 on nearby values: spread them first.
    const rnd = prng(Math.imul(SEED, 0x9e3779b1));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: Array.from({ length: TOPICS }, (_, i) => ({ topic: topicName(i), numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] })),
      waitForLeaders: true,
    });
    await admin.disconnect();
    let state = await cluster.waitForState(
      (s) => s.topics.filter((t) => t.name.startsWith('many-')).length === TOPICS && s.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)),
      30000,
      'every partition led with a full ISR',
    );

    const producers = await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 1000 } });
        await p.connect();
        return p;
      }),
    );
    const acked: Sent[] = [];
    const failures: string[] = [];
    let stopping = false;
    const writers = producers.flatMap((p, i) =>
      Array.from({ length: LANES }, (_, lane) => {
        const w = i * LANES + lane;
        return runLane(p, w, prng(Math.imul(SEED * 100 + w, 0x9e3779b1)), () => stopping, acked, failures);
      }),
    );
    const progress: string[] = [];
    const fail = (err: unknown): never => {
      throw new Error(`seed ${SEED} (FAILOVER_SEED=${SEED} to replay): ${(err as Error).message}\n--- progress ---\n${progress.join('\n')}\n--- cluster log (tail) ---\n${cluster.cli.output().split('\n').slice(-40).join('\n')}`);
    };

    try {
      // Let the writers get going, then kill the broker leading the most partitions (ties broken by the seed: seeds 1,
      // 2, 3 kill the first, second, third of the tied brokers).
      const warmupMs = 300 + Math.floor(rnd() * 900);
      await new Promise((r) => setTimeout(r, warmupMs));
      state = await cluster.state();
      const leaders = leadersPerBroker(state);
      const most = Math.max(...leaders.values());
      const tied = [...leaders].filter(([, n]) => n === most).map(([id]) => id);
      const victim = tied[(SEED - 1) % tied.length];
      const ackedBeforeKill = acked.length;
      progress.push(`writing ${warmupMs} ms (${ackedBeforeKill} acknowledged); leaders per broker ${JSON.stringify([...leaders])}; killing broker ${victim}`);
      const killedAt = Date.now();
      await cluster.control.broker(victim, 'kill');
      state = await cluster.waitForState((s) => everyPartitionLedBy(s, (id) => id !== victim), ALL_LED_BOUND_MS, `every partition led by a live broker within ${ALL_LED_BOUND_MS} ms of the kill`);
      const allLedMs = Date.now() - killedAt;
      progress.push(`every partition led by a survivor ${allLedMs} ms after the kill`);

      // The writers go on without the victim, then with it back (it truncates and catches up as a follower).
      const downMs = 500 + Math.floor(rnd() * 1500);
      const ackedAtKill = acked.length;
      await new Promise((r) => setTimeout(r, Math.max(0, downMs - allLedMs)));
      const ackedWhileDown = acked.length - ackedAtKill;
      progress.push(`${ackedWhileDown} message(s) acknowledged while broker ${victim} was down (${downMs} ms)`);
      assert.ok(ackedWhileDown > 0, `no write was acknowledged in the ${downMs} ms broker ${victim} was down`);
      await cluster.control.broker(victim, 'restart');
      await cluster.waitForState((s) => s.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)), 30000, `every ISR full again after restarting broker ${victim}`);
      const ackedAfterRestart = acked.length;
      await new Promise((r) => setTimeout(r, 300));
      progress.push(`broker ${victim} back in every ISR; ${acked.length - ackedAfterRestart} acknowledged since`);
    } catch (err) {
      stopping = true;
      await Promise.all(writers);
      fail(err);
    }
    stopping = true;
    await Promise.all(writers);
    await Promise.all(producers.map((p) => p.disconnect()));
    progress.push(`${acked.length} message(s) acknowledged; ${failures.length} send(s) failed${failures.length ? ` (first: ${failures[0]})` : ''}`);

    // Read every partition back from its leader.
    state = await cluster.state();
    const clients = new Map<number, WireClient>();
    const read = new Map<string, string[]>();
    try {
      for (let i = 0; i < TOPICS; i++) {
        for (let p = 0; p < PARTITIONS; p++) read.set(`${topicName(i)}-${p}`, await readPartition(clients, state, topicName(i), p));
      }
    } catch (err) {
      fail(err);
    } finally {
      for (const c of clients.values()) c.close();
    }

    try {
      assert.ok(acked.length > 100, `only ${acked.length} messages acknowledged`);
      const where = new Map<string, string[]>();
      for (const [key, values] of read) for (const v of values) where.set(v, [...(where.get(v) ?? []), key]);
      const duplicated = [...where].filter(([, keys]) => keys.length > 1);
      assert.deepEqual(duplicated.slice(0, 10), [], `${duplicated.length} message(s) written more than once`);
      const lost = acked.filter((m) => !where.has(m.value));
      for (const m of lost.slice(0, 3)) {
        const key = `${m.topic}-${m.partition}`;
        progress.push(`lost ${m.value}: ${key} is now ${JSON.stringify(state.topics.find((t) => t.name === m.topic)?.partitions[m.partition])}; read back ${read.get(key)!.join(',')}`);
      }
      assert.deepEqual(lost.slice(0, 10).map((m) => `${m.value} -> ${m.topic}-${m.partition}`), [], `${lost.length} acknowledged message(s) lost`);
      const misplaced = acked.filter((m) => where.get(m.value)![0] !== `${m.topic}-${m.partition}`);
      assert.deepEqual(misplaced.slice(0, 10).map((m) => m.value), [], 'acknowledged messages on another partition than sent to');
      // Within one lane (its sends are sequential), acknowledged messages of a partition are in the log in that order.
      for (const [key, values] of read) {
        const readBack = values.map((value) => ({ partition: 0, value }));
        for (let w = 0; w < PRODUCERS * LANES; w++) {
          const mine = acked.filter((m) => m.writer === w && `${m.topic}-${m.partition}` === key).map((m) => ({ partition: 0, value: m.value }));
          if (mine.length > 0) assertAckedReadBack(mine, readBack);
        }
      }
    } catch (err) {
      fail(err);
    }
    t.diagnostic(`seed ${SEED}: ${progress.join('; ')}`);
  });
});
