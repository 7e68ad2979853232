// The extension's producer (src/client/producer.ts, behind the producer panel and `minikafka console-producer`)
// through a kill -9 of a leader: every record it reports as delivered, with the partition and offset it reports, is
// in the log. Each send spans every partition of a topic whose leaders are spread over the three brokers, so a send
// in flight at the kill meets kafkajs 2.2.4's multi-partition retry (tulios/kafkajs#1303): after the leader change it
// skipped the partitions that moved to a broker which had already answered, and resolved the send anyway. The
// producer sends those records again (or fails the send); before, it reported them delivered with no offset.
// PRODUCER_FAILOVER_SEED (default 1) picks the victim and the moment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { WireClient } from '../../src/broker/wireClient';
import { DeliveryReport, RecordProducer } from '../../src/client/producer';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { prng } from '../helpers/python';
import { readToHighWatermark } from '../helpers/wire';

const SEED = Number(process.env.PRODUCER_FAILOVER_SEED ?? 1);
const TOPIC = 'panel-failover';
const PARTITIONS = 6;
const RECORDS_PER_SEND = 60;

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.stop();
});

async function readPartition(host: string, port: number, partition: number): Promise<Map<number, string>> {
  const c = new WireClient(host, port, 'producer-failover-reader');
  await c.connect();
  try {
    return new Map((await readToHighWatermark(c, TOPIC, partition)).map((r) => [r.offset, r.value!]));
  } finally {
    c.close();
  }
}

describe(`the extension's producer through a leader's kill -9 (seed ${SEED}; PRODUCER_FAILOVER_SEED=${SEED} to replay)`, () => {
  test('every record reported delivered is in the log at the partition and offset reported', async () => {
    const rnd = prng(Math.imul(SEED, 0x9e3779b1));
    const kafka = new Kafka({ clientId: 'producer-failover-admin', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await admin.disconnect();
    let state = await cluster.waitForState((s) => s.topics.some((t) => t.name === TOPIC && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3)), 20000, 'the topic led with full ISRs');
    const leaders = new Set(state.topics.find((t) => t.name === TOPIC)!.partitions.map((p) => p.leader));
    assert.equal(leaders.size, 3, 'the partitions are led by all three brokers');

    const producer = new RecordProducer({ bootstrapServers: cluster.brokers, clientId: 'producer-failover', retry: { retries: 20, initialRetryTimeMs: 50, maxRetryTimeMs: 1000 } }, { acks: -1 });
    await producer.connect();
    const delivered: Array<DeliveryReport & { value: string }> = [];
    const failures: string[] = [];
    let stop = false;
    let sends = 0;
    const writer = (async () => {
      while (!stop) {
        const values = Array.from({ length: RECORDS_PER_SEND }, (_, i) => `s${sends}-${i}`);
        sends++;
        try {
          // No key and no partition: kafkajs's default partitioner spreads the records over every partition.
          const reports = await producer.send(TOPIC, values.map((value) => ({ value })));
          reports.forEach((r, i) => delivered.push({ ...r, value: values[i] }));
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();

    const victims = [...leaders].sort();
    const victim = victims[Math.floor(rnd() * victims.length)];
    await new Promise((r) => setTimeout(r, 300 + Math.floor(rnd() * 700)));
    const sendsBeforeKill = sends;
    await cluster.control.broker(victim, 'kill');
    await cluster.waitForState((s) => s.topics.find((t) => t.name === TOPIC)!.partitions.every((p) => p.leader >= 0 && p.leader !== victim), 5000, `every partition led by a live broker after the kill of broker ${victim}`);
    const sendsAtFailover = sends;
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await writer;
    await producer.disconnect();
    assert.ok(sendsAtFailover > sendsBeforeKill || sends > sendsAtFailover, 'sends went on through the failover');

    state = await cluster.state();
    const partitions = state.topics.find((t) => t.name === TOPIC)!.partitions;
    const logs = new Map<number, Map<number, string>>();
    for (const p of partitions) {
      const b = state.brokers.find((x) => x.id === p.leader)!;
      logs.set(p.partition, await readPartition(b.host, b.port, p.partition));
    }
    const unconfirmed = delivered.filter((r) => r.offset === null);
    assert.deepEqual(unconfirmed.slice(0, 5), [], `${unconfirmed.length} record(s) reported delivered without an offset (seed ${SEED}, victim broker ${victim})`);
    const wrong = delivered.filter((r) => logs.get(r.partition)?.get(Number(r.offset)) !== r.value);
    assert.deepEqual(
      wrong.slice(0, 5).map((r) => `${r.value} reported at ${TOPIC}-${r.partition}@${r.offset}, log has ${logs.get(r.partition)?.get(Number(r.offset))}`),
      [],
      `${wrong.length} of ${delivered.length} delivered record(s) not in the log where reported (seed ${SEED}, victim broker ${victim}; ${failures.length} send(s) failed)`,
    );
    assert.ok(delivered.length > RECORDS_PER_SEND * 5, `only ${delivered.length} records delivered`);
  });
});
