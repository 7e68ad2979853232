// Many topics at once on a real three-process mini-cluster: 300 topics × 3 partitions RF 3 in one CreateTopics
// request (kafkajs' admin sends them together), then every broker's Metadata names for every partition the leader
// and replicas the controller chose, every one of those leaders takes an acks=all produce, and a broker that
// restarts afterwards (a whole image at reconnect, deltas after it) agrees with the controller too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { Metadata } from '../../src/protocol/apis';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire } from '../helpers/wire';
import type { ClusterState } from '../../src/broker/cluster/supervisor';

const TOPICS = 300;
const PARTITIONS = 3;
let cluster: TestCluster;

before(async () => {
  // The default session timeout (3 s), as users run it: creating hundreds of topics must not fence anyone.
  cluster = await startTestCluster(['--session-timeout-ms', '3000']);
});

after(async () => {
  await cluster?.stop();
});

/** topic-partition -> leader and replicas, as the controller has them (bench topics only). */
function controllerView(s: ClusterState): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of s.topics) if (t.name.startsWith('many-')) for (const p of t.partitions) m.set(`${t.name}-${p.partition}`, `${p.leader}/${p.replicas.join(',')}`);
  return m;
}

/** The same, as broker `id` answers Metadata of every topic. */
async function brokerView(s: ClusterState, id: number): Promise<Map<string, string>> {
  const b = s.brokers.find((x) => x.id === id)!;
  const w = await connectWire(`${b.host}:${b.port}`);
  try {
    const md = await w.request(Metadata, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 10000);
    const m = new Map<string, string>();
    for (const t of md.topics) {
      if (!t.name?.startsWith('many-')) continue;
      for (const p of t.partitions) m.set(`${t.name}-${p.partitionIndex}`, `${p.leaderId}/${p.replicaNodes.join(',')}`);
    }
    return m;
  } finally {
    w.close();
  }
}

async function everyBrokerAgrees(timeoutMs: number): Promise<ClusterState> {
  const deadline = Date.now() + timeoutMs;
  let problem = '';
  while (Date.now() < deadline) {
    const s = await cluster.state();
    const want = controllerView(s);
    problem = want.size !== TOPICS * PARTITIONS ? `controller has ${want.size} partitions` : '';
    for (const b of s.brokers) {
      if (problem) break;
      const got = await brokerView(s, b.id);
      const wrong = [...want].filter(([k, v]) => got.get(k) !== v);
      if (wrong.length > 0) problem = `broker ${b.id} differs on ${wrong.length} partitions, e.g. ${wrong[0][0]}: ${got.get(wrong[0][0])} vs ${wrong[0][1]}`;
    }
    const led = [...want.values()].every((v) => !v.startsWith('-1/'));
    if (!problem && led) return s;
    if (!problem) problem = 'a partition has no leader';
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`brokers do not agree with the controller after ${timeoutMs} ms: ${problem}`);
}

describe('hundreds of topics in one request', () => {
  test(`${TOPICS} topics × ${PARTITIONS} partitions RF 3 in one CreateTopics: created, led and served within seconds`, async () => {
    const kafka = new Kafka({ clientId: 'scale', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const t0 = Date.now();
    try {
      const created = await admin.createTopics({
        topics: Array.from({ length: TOPICS }, (_, i) => ({ topic: `many-${i}`, numPartitions: PARTITIONS, replicationFactor: 3 })),
        timeout: 60000,
      });
      assert.equal(created, true);
    } finally {
      await admin.disconnect();
    }
    const createMs = Date.now() - t0;
    const state = await everyBrokerAgrees(30000);
    const agreeMs = Date.now() - t0;
    assert.ok(state.brokers.every((b) => b.state === 'running' && !b.fenced), 'nobody was fenced on the way');
    assert.ok(createMs < 20000, `CreateTopics took ${createMs} ms`);

    // Every leader serves its partitions: one acks=all record to each of the 900 partitions.
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const results = await producer.sendBatch({
        acks: -1,
        topicMessages: Array.from({ length: TOPICS }, (_, i) => ({
          topic: `many-${i}`,
          messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: `v${i}-${p}` })),
        })),
      });
      assert.equal(results.length, TOPICS * PARTITIONS);
      assert.ok(results.every((r) => r.errorCode === 0 && r.baseOffset === '0'), 'every partition took its first record at offset 0');
    } finally {
      await producer.disconnect();
    }
    console.log(`created in ${createMs} ms; every broker agreed with the controller after ${agreeMs} ms`);
  });

  test('a broker restarted afterwards takes the whole image, then deltas: it agrees with the controller', async () => {
    await cluster.control.broker(2, 'restart');
    await cluster.waitForState((s) => s.brokers.every((b) => b.state === 'running' && !b.fenced), 30000, 'broker 2 back');
    await everyBrokerAgrees(30000);
  });
});
