// The two seed documents' commands as they are written, on a three-broker mini-cluster of real processes:
// `--zookeeper <supervisor>` (the supervisor takes ZooKeeper's place), `--zookeeper <broker>` (the tutorial's slip
// after the kill), a broker found with `ps -ef | grep` and stopped with a plain `kill <pid>` (SIGTERM: a controlled
// shutdown, as Kafka does), `--partition 3` (JOpt Simple's abbreviation of --partitions), and the notes'
// `--alter --config retention.ms=10000` then `-delete-config retention.ms`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runCli } from '../helpers/cli';
import { partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';
import { waitFor } from '../helpers/wait';

let cluster: TestCluster;
let zookeeper: string;
const TOPIC = 'my-replicated-topic';

before(async () => {
  cluster = await startTestCluster();
  const m = /supervisor: 127\.0\.0\.1:(\d+)/.exec(cluster.cli.output());
  assert.ok(m, `minikafka start prints the supervisor's address:\n${cluster.cli.output()}`);
  zookeeper = `localhost:${m[1]}`;
});

after(async () => {
  await cluster?.stop();
});

async function ok(args: string[], input?: string): Promise<string> {
  const res = await runCli(args, input);
  assert.equal(res.code, 0, `minikafka ${args.join(' ')}\n${res.stderr}`);
  return res.stdout;
}

/** Leader, replicas and ISR of each partition, read from `--describe` text. */
function partitions(describe: string): { leader: string; replicas: string; isr: string }[] {
  return describe
    .split('\n')
    .filter((l) => l.startsWith('\tTopic:'))
    .map((l) => {
      const m = /\tLeader: (\S+)\tReplicas: (\S+)\tIsr: (\S*)/.exec(l);
      assert.ok(m, `partition line: ${JSON.stringify(l)}`);
      return { leader: m[1], replicas: m[2], isr: m[3] };
    });
}

/** `ps -ef | grep server.properties`, here `grep broker.id=<id>` in this cluster's data dir: the broker's pid. */
function brokerPid(id: number): number {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  const line = ps.split('\n').find((l) => l.includes(`broker.id=${id} `) && l.includes(`log.dir=${cluster.dir}/`));
  assert.ok(line, `a process with broker.id=${id} in ps:\n${ps}`);
  return Number(line.trim().split(/\s+/)[0]);
}

test('the cluster tutorial as written: --zookeeper, kill <pid> of the leader, describe, consume, ISR back', async () => {
  const all = cluster.brokers.map((b) => b.replace('127.0.0.1', 'localhost')).join(',');
  assert.match(await ok(['topics', '--create', '--zookeeper', zookeeper, '--replication-factor', '3', '--partitions', '2', '--topic', TOPIC]), /Created topic/);
  await cluster.waitForState((s) => s.topics.some((t) => t.name === TOPIC && t.partitions.every((p) => p.isr.length === 3)));
  const described = await ok(['topics', '--describe', '--zookeeper', zookeeper, '--topic', TOPIC]);
  assert.match(described, /^Topic: my-replicated-topic\t.*PartitionCount: 2\tReplicationFactor: 3/);
  await ok(['console-producer', '--broker-list', all, '--topic', TOPIC], 'my test msg 1\nmy test msg 2\n');

  const leader = partitionOf(await cluster.state(), TOPIC, 0).leader;
  process.kill(brokerPid(leader), 'SIGTERM');
  // Kafka answers SIGTERM with a controlled shutdown: the broker is reported stopped, not crashed.
  await cluster.waitForState((s) => s.brokers.find((b) => b.id === leader)?.state === 'stopped', 15000, `broker ${leader} stopped`);

  // The tutorial then describes with `--zookeeper localhost:9092`, a broker's address: that works too.
  const survivor = cluster.brokers[leader === 1 ? 1 : 0].replace('127.0.0.1', 'localhost');
  const after = await runCli(['topics', '--describe', '--zookeeper', survivor, '--topic', TOPIC]);
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stderr, /is a broker, used as --bootstrap-server/);
  const p0 = partitions(after.stdout)[0];
  assert.notEqual(p0.leader, String(leader), 'partition 0 has a new leader');
  assert.notEqual(p0.leader, 'none');
  assert.equal(p0.replicas.split(',').sort().join(','), '1,2,3', 'Replicas still lists the stopped broker');
  assert.ok(!p0.isr.split(',').includes(String(leader)), `the ISR no longer has broker ${leader}: ${p0.isr}`);

  const consumed = await ok(['console-consumer', '--bootstrap-server', all, '--from-beginning', '--topic', TOPIC, '--max-messages', '2', '--timeout-ms', '20000']);
  assert.deepEqual(consumed.trim().split('\n').sort(), ['my test msg 1', 'my test msg 2']);

  await ok(['broker', 'restart', String(leader), '--dir', cluster.dir]);
  await waitFor(async () => partitions(await ok(['topics', '--describe', '--zookeeper', zookeeper, '--topic', TOPIC])).every((p) => p.isr.split(',').length === 3), 20000);
});

test("the architecture notes' topic commands as written: --partition, --alter --config, -delete-config", async () => {
  assert.match(await ok(['topics', '--zookeeper', zookeeper, '--create', '--topic', 'test', '--partition', '3', '--replication-factor', '1']), /Created topic test/);
  assert.match(await ok(['topics', '--zookeeper', zookeeper, '--list']), /^test$/m);
  assert.equal(partitions(await ok(['topics', '--zookeeper', zookeeper, '--describe', '--topic', 'test'])).length, 3);
  await ok(['topics', '--zookeeper', zookeeper, '--alter', '--topic', 'test', '--config', 'retention.ms=10000']);
  assert.match(await ok(['topics', '--zookeeper', zookeeper, '--describe', '--topic', 'test']), /Configs: retention\.ms=10000/);
  await ok(['topics', '--zookeeper', zookeeper, '--alter', '--topic', 'test', '-delete-config', 'retention.ms']);
  assert.doesNotMatch(await ok(['topics', '--zookeeper', zookeeper, '--describe', '--topic', 'test']), /retention\.ms/);
});

test('--zookeeper where nothing listens is one clear line', async () => {
  const res = await runCli(['topics', '--zookeeper', 'localhost:1', '--list']);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^minikafka: nothing answers at localhost:1 \(ECONNREFUSED\): --zookeeper takes the address of the mini-cluster's supervisor/);
  assert.equal(res.stderr.trim().split('\n').length, 1);
});
