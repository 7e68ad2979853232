// The data directory is safe: one `start` per --dir (a lock taken before anything is read), the controller's
// metadata kept with a previous copy (a torn file falls back to it), and no partition data deleted because metadata
// is missing: only what the controller recorded as deleted goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { CLI, runCli } from '../helpers/cli';
import { fullIsr, startTestCluster, TestCluster } from '../helpers/cluster';
import { tempDir } from '../helpers/broker';

const metadataFile = (dir: string) => join(dir, 'controller', 'cluster-metadata.json');

async function seed(cluster: TestCluster, topic: string, count: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'safety', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
  await cluster.waitForState((s) => fullIsr(s, topic), 15000, `full ISR of ${topic}`);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ value: `v${i}`, partition: i % 2 })) });
  await producer.disconnect();
}

async function countRecords(cluster: TestCluster, topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'safety-check', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((n, o) => n + Number(o.high), 0);
}

function runStart(dir: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, 'start', '--brokers', '3', '--port', '0', '--dir', dir, '--session-timeout-ms', '1500', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    // The winner runs until stopped: stop it cleanly once it is up.
    if (/bootstrap: /.test(out)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

test('two starts on one dir launched together: exactly one runs, the other says who holds the dir; data intact', async () => {
  let cluster = await startTestCluster();
  const dir = cluster.dir;
  try {
    await seed(cluster, 'raced', 20);
    await cluster.stop(true);
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([runStart(dir), runStart(dir)]);
      const winners = [a, b].filter((r) => /bootstrap: /.test(r.out));
      const losers = [a, b].filter((r) => !/bootstrap: /.test(r.out));
      assert.equal(winners.length, 1, `exactly one start runs (round ${round}):\n${a.out}\n---\n${b.out}`);
      assert.notEqual(losers[0].code, 0);
      assert.match(losers[0].out, /is in use by another minikafka start \(pid \d+/);
      assert.equal(losers[0].out.trim().split('\n').length, 1, `one line: ${losers[0].out}`);
    }
    cluster = await startTestCluster([], 3, dir);
    assert.equal(await countRecords(cluster, 'raced'), 20);
  } finally {
    await cluster.stop();
  }
});

test('missing cluster metadata: start refuses and leaves the partition data alone', async () => {
  const cluster = await startTestCluster();
  const dir = cluster.dir;
  try {
    await seed(cluster, 'precious', 10);
    await cluster.stop(true);
    rmSync(metadataFile(dir));
    rmSync(`${metadataFile(dir)}.prev`, { force: true });
    const res = await runCli(['start', '--brokers', '3', '--port', '0', '--dir', dir]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /has partition data for 6 partitions but no cluster metadata \(controller\/cluster-metadata\.json\); restore it or its \.prev copy, or delete .* to start empty/);
    for (const b of [1, 2, 3]) for (const p of [0, 1]) assert.ok(existsSync(join(dir, `broker-${b}`, `precious-${p}`)), `broker-${b}/precious-${p} kept`);
    assert.ok(statSync(join(dir, 'broker-1', 'precious-0', '00000000000000000000.log')).size > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn metadata file falls back to its previous copy; each commit keeps the previous one', async () => {
  let cluster = await startTestCluster();
  const dir = cluster.dir;
  try {
    await seed(cluster, 'survivor', 10);
    // The previous copy is one commit behind: one more change, so that it has 'survivor' too. ('later' is then
    // only in the current file: falling back costs that change, and later's directories are kept, unknown.)
    await seed(cluster, 'later', 2);
    const current = JSON.parse(readFileSync(metadataFile(dir), 'utf8')) as { epoch: number };
    const prev = JSON.parse(readFileSync(`${metadataFile(dir)}.prev`, 'utf8')) as { epoch: number };
    assert.ok(prev.epoch < current.epoch, `the .prev copy is older (${prev.epoch} < ${current.epoch})`);
    await cluster.stop(true);
    const size = statSync(metadataFile(dir)).size;
    truncateSync(metadataFile(dir), Math.floor(size / 2));
    cluster = await startTestCluster([], 3, dir);
    assert.match(cluster.cli.output(), /is unreadable .*using the previous copy/);
    assert.equal(await countRecords(cluster, 'survivor'), 10);
    assert.ok(existsSync(join(dir, 'broker-1', 'later-0')), "the lost change's partition data is kept");
    assert.match(cluster.cli.output(), /leaving .*later-0 alone/);
  } finally {
    await cluster.stop();
  }
});

test('both metadata copies unreadable: start refuses with what is wrong and how to recover', async () => {
  const dir = tempDir('minikafka-torn-');
  try {
    mkdirSync(join(dir, 'controller'), { recursive: true });
    writeFileSync(metadataFile(dir), '{"clusterId": "x", "epo');
    writeFileSync(`${metadataFile(dir)}.prev`, '');
    const res = await runCli(['start', '--brokers', '1', '--port', '0', '--dir', dir]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /cannot read the cluster metadata .*restore .* from a backup, or delete the data directory/);
    assert.equal(res.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a topic deleted while a broker was down: its data goes when the broker returns; unknown dirs stay', async () => {
  const cluster = await startTestCluster();
  try {
    await seed(cluster, 'doomed', 10);
    await seed(cluster, 'kept', 4);
    await cluster.control.broker(3, 'stop');
    const mystery = join(cluster.dir, 'broker-3', 'mystery-0');
    mkdirSync(mystery);
    writeFileSync(join(mystery, 'keep-me'), 'x');
    const kafka = new Kafka({ clientId: 'safety-del', brokers: cluster.brokers.filter((_, i) => i !== 2), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: ['doomed'] });
    await admin.disconnect();
    assert.ok(existsSync(join(cluster.dir, 'broker-3', 'doomed-0')), 'still there while broker 3 is down');
    await cluster.control.broker(3, 'restart');
    await cluster.waitForState((s) => fullIsr(s, 'kept'), 15000, 'kept back in sync');
    for (let i = 0; i < 50 && existsSync(join(cluster.dir, 'broker-3', 'doomed-0')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!existsSync(join(cluster.dir, 'broker-3', 'doomed-0')), 'deleted topic removed on the returning broker');
    assert.ok(!existsSync(join(cluster.dir, 'broker-3', 'doomed-1')));
    assert.ok(existsSync(join(cluster.dir, 'broker-3', 'kept-0')), 'live topic kept');
    assert.ok(existsSync(join(mystery, 'keep-me')), 'unknown dir left alone');
  } finally {
    await cluster.stop();
  }
});
