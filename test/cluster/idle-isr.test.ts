// An idle cluster keeps its ISRs: three broker processes, 100 topics × 3 partitions RF 3, and a lag limit of 2 s
// (replica.lag.time.max.ms, Kafka's is 30 s) so that a follower wrongly counted as lagging would be dropped within
// the test. Followers fetch through incremental fetch sessions, in which idle partitions are neither read nor
// answered; each such fetch must still count as caught up. Then one partition is written with acks=all for a
// while: its followers stay in sync too. No partition may change (leader or ISR: the controller bumps the
// partition epoch on each) from the moment every ISR is full.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterState } from '../../src/broker/cluster/supervisor';
import { CreateTopics, Metadata } from '../../src/protocol/apis';
import { errorName } from '../../src/protocol/errorCode';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire, produce } from '../helpers/wire';

const TOPICS = 100;
const LAG_MS = 2000;

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster(['--config', `replica.lag.time.max.ms=${LAG_MS}`]);
});

after(async () => {
  await cluster?.stop();
});

const epochSum = (s: ClusterState) => s.topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.partitionEpoch, 0), 0);
const allFull = (s: ClusterState) => s.topics.length >= TOPICS && s.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length));

describe('idle partitions keep their ISR', () => {
  it(`no leader or ISR change in ${TOPICS * 3} idle partitions over 4× the lag limit, nor while one of them is written`, async () => {
    const wire = await connectWire(cluster.bootstrap);
    try {
      const names = Array.from({ length: TOPICS }, (_, i) => `idle-${i}`);
      const res = await wire.request(CreateTopics, 5, { topics: names.map((name) => ({ name, numPartitions: 3, replicationFactor: 3, assignments: [], configs: [] })), timeoutMs: 60000, validateOnly: false }, 90000);
      for (const t of res.topics) assert.equal(t.errorCode, 0, `${t.name}: ${errorName(t.errorCode)}`);
      const full = await cluster.waitForState(allFull, 60000, 'every ISR full');
      const before = epochSum(full);

      await new Promise((r) => setTimeout(r, 4 * LAG_MS));
      const afterIdle = await cluster.state();
      const changed = afterIdle.topics.flatMap((t) => t.partitions.filter((p) => p.isr.length !== p.replicas.length).map((p) => `${t.name}-${p.partition} isr [${p.isr}]`));
      assert.deepEqual(changed, [], 'ISRs after idling');
      assert.equal(epochSum(afterIdle), before, 'partition epochs moved while idle');

      // One partition written with acks=all (through its leader) for 2× the lag limit, the rest idle.
      const md = await wire.request(Metadata, 9, { topics: [{ name: 'idle-0' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const leaderId = md.topics[0].partitions[0].leaderId;
      const leader = md.brokers.find((b) => b.nodeId === leaderId)!;
      const toLeader = await connectWire(`${leader.host}:${leader.port}`);
      try {
        let acked = 0;
        const until = Date.now() + 2 * LAG_MS;
        while (Date.now() < until) {
          const pr = await produce(toLeader, 'idle-0', 0, [{ value: Buffer.alloc(100, 0x61) }], -1);
          assert.equal(pr.errorCode, 0, errorName(pr.errorCode));
          acked++;
        }
        assert.ok(acked > 10, `only ${acked} acks=all writes in ${2 * LAG_MS} ms`);
      } finally {
        toLeader.close();
      }
      await new Promise((r) => setTimeout(r, LAG_MS));
      assert.equal(epochSum(await cluster.state()), before, 'partition epochs moved while one partition was written');
    } finally {
      wire.close();
    }
  });
});
