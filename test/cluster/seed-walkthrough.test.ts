// The seed tutorial (Kafka——集群) followed word for word with the minikafka CLI against a three-broker
// mini-cluster of real processes: create a replicated topic, describe it, produce two messages, kill the
// broker leading partition 0, see the leader move and the ISR shrink, consume everything still, restart the
// broker and see the ISR grow back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { waitFor } from '../helpers/wait';

let cluster: TestCluster;
const TOPIC = 'my-replicated-topic';

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.stop();
});

interface DescribedPartition {
  partition: number;
  leader: number | 'none';
  replicas: number[];
  isr: number[];
}

async function describe(bootstrap: string): Promise<{ header: string; partitions: DescribedPartition[] }> {
  const res = await runCli(['topics', '--bootstrap-server', bootstrap, '--describe', '--topic', TOPIC]);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trimEnd().split('\n');
  const header = lines[0];
  const partitions = lines.slice(1).map((line) => {
    const m = /^\tTopic: (\S+)\tPartition: (\d+)\tLeader: (\d+|none)\tReplicas: ([\d,]+)\tIsr: ([\d,]*)/.exec(line);
    assert.ok(m, `partition line in kafka-topics layout: ${JSON.stringify(line)}`);
    return {
      partition: Number(m[2]),
      leader: m[3] === 'none' ? ('none' as const) : Number(m[3]),
      replicas: m[4].split(',').map(Number),
      isr: m[5] ? m[5].split(',').map(Number) : [],
    };
  });
  return { header, partitions };
}

test('the seed tutorial: replicated topic, leader killed, consuming still works, ISR grows back', async () => {
  const all = cluster.bootstrap.replace(/127\.0\.0\.1/g, 'localhost');
  const first = cluster.brokers[0];

  const created = await runCli(['topics', '--create', '--bootstrap-server', first, '--replication-factor', '3', '--partitions', '2', '--topic', TOPIC]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /Created topic my-replicated-topic/);

  let d = await describe(first);
  assert.match(d.header, /^Topic: my-replicated-topic\t(TopicId: \S+\t)?PartitionCount: 2\tReplicationFactor: 3\tConfigs: /);
  assert.equal(d.partitions.length, 2);
  for (const p of d.partitions) {
    assert.equal(p.replicas.length, 3);
    assert.equal(typeof p.leader, 'number');
  }
  await waitFor(async () => (await describe(first)).partitions.every((p) => p.isr.length === 3), 15000);

  const produced = await runCli(['console-producer', '--broker-list', all, '--topic', TOPIC], 'my test msg 1\nmy test msg 2\n');
  assert.equal(produced.code, 0, produced.stderr);

  d = await describe(first);
  const leader = d.partitions[0].leader as number;
  const killed = await runCli(['broker', 'kill', String(leader), '--dir', cluster.dir]);
  assert.equal(killed.code, 0, killed.stderr);

  const survivor = cluster.brokers.find((_, i) => i + 1 !== leader)!;
  await waitFor(async () => {
    const p0 = (await describe(survivor)).partitions[0];
    return p0.leader !== leader && p0.leader !== 'none' && !p0.isr.includes(leader);
  }, 5000);
  d = await describe(survivor);
  assert.deepEqual([...d.partitions[0].replicas].sort(), [1, 2, 3], 'replicas still lists every broker, dead or not');
  assert.ok(!d.partitions[0].isr.includes(leader));

  const consumed = await runCli(['console-consumer', '--bootstrap-server', all, '--from-beginning', '--topic', TOPIC, '--max-messages', '2', '--timeout-ms', '20000']);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.deepEqual(consumed.stdout.trim().split('\n').sort(), ['my test msg 1', 'my test msg 2']);

  const restarted = await runCli(['broker', 'restart', String(leader), '--dir', cluster.dir]);
  assert.equal(restarted.code, 0, restarted.stderr);
  await waitFor(async () => (await describe(survivor)).partitions.every((p) => p.isr.length === 3), 20000);
});
