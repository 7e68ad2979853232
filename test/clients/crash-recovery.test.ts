// The data a broker acknowledged survives `kill -9` of the broker process and a restart on the same dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { spawnCli, CliProcess } from '../helpers/cli';
import { ControlClient } from '../../src/broker/cluster/controlClient';
import { tempDir } from '../helpers/broker';
import { describeKcat, requireKcat, runKcat } from '../helpers/kcat';

/**
 * kill -9 every broker process of the cluster in `dir` (no flush, no clean shutdown), then the supervisor, and
 * start the cluster again on the same dir and port.
 */
async function crashAndRestart(cli: CliProcess, dir: string, port: number): Promise<CliProcess> {
  const { brokers } = await ControlClient.forDir(dir).state();
  for (const b of brokers) if (b.pid) process.kill(b.pid, 'SIGKILL');
  cli.kill('SIGKILL');
  await cli.exited;
  return spawnCli(['start', '--brokers', '1', '--port', String(port), '--dir', dir]);
}

test('acknowledged messages survive kill -9 and restart', async () => {
  const dir = tempDir();
  let cli: CliProcess | undefined = await spawnCli(['start', '--brokers', '1', '--port', '0', '--dir', dir]);
  try {
    const port = cli.port;
    const kafka = new Kafka({ clientId: 'crash', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = Array.from({ length: 25 }, (_, j) => ({ key: `k${j % 4}`, value: `msg-${i}-${j}` }));
      await producer.send({ topic: 'durable', messages: batch, acks: 1 });
      sent.push(...batch.map((m) => m.value));
    }
    await producer.disconnect();

    // kill -9 the broker process itself (no flush, no clean shutdown), then the supervisor.
    cli = await crashAndRestart(cli, dir, port);

    const consumer = new Kafka({ clientId: 'crash2', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).consumer({ groupId: 'after-crash', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'durable', fromBeginning: true });
    const got = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.size}/${sent.length} messages after restart`)), 20000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.add(message.value!.toString());
          if (got.size === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    assert.deepEqual([...got].sort(), [...sent].sort());
  } finally {
    cli?.kill('SIGKILL');
    await cli?.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('records produced by kcat and a group\'s committed offsets survive kill -9 and restart', async () => {
  requireKcat();
  const dir = tempDir();
  let cli: CliProcess | undefined = await spawnCli(['start', '--brokers', '1', '--port', '0', '--dir', dir]);
  try {
    const port = cli.port;
    const bootstrap = `127.0.0.1:${port}`;
    const topic = 'kcat-durable';
    const groupId = 'durable-group';
    const kafka = new Kafka({ clientId: 'crash-offsets', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    // kcat produces with librdkafka's default acks=all; each record is acknowledged before kcat exits 0.
    const produced = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 6}`, value: `kcat-${i}` }));
    const args = ['-b', bootstrap, '-P', '-t', topic, '-K:'];
    const put = await runKcat(args, produced.map((m) => `${m.key}:${m.value}\n`).join(''));
    assert.equal(put.code, 0, describeKcat(args, put));

    // A member of the group reads everything and commits chosen offsets (half of each partition).
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: Array<{ partition: number; offset: number }> = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the consumer read ${seen.length}/${produced.length} records`)), 20000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            seen.push({ partition, offset: Number(message.offset) });
            if (seen.length === produced.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    const counts = [0, 1].map((p) => seen.filter((m) => m.partition === p).length);
    assert.ok(counts.every((n) => n >= 2), `both partitions hold records: ${counts}`);
    const committed = counts.map((n) => Math.floor(n / 2));
    await consumer.commitOffsets(committed.map((offset, partition) => ({ topic, partition, offset: String(offset) })));
    await consumer.disconnect();
    const fetchCommitted = async () => {
      const admin2 = kafka.admin();
      await admin2.connect();
      try {
        const [res] = await admin2.fetchOffsets({ groupId, topics: [topic] });
        return res.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
      } finally {
        await admin2.disconnect();
      }
    };
    assert.deepEqual(await fetchCommitted(), committed.map(String), 'committed before the crash');

    cli = await crashAndRestart(cli, dir, port);

    // kcat reads back exactly what it produced, at dense offsets, in per-key order.
    const readArgs = ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p:%o:%k=%s\n'];
    const read = await runKcat(readArgs);
    assert.equal(read.code, 0, describeKcat(readArgs, read));
    const lines = read.stdout.split('\n').filter(Boolean).map((l) => {
      const m = /^(\d+):(\d+):([^=]*)=(.*)$/.exec(l);
      assert.ok(m, `kcat output line ${JSON.stringify(l)}`);
      return { partition: Number(m[1]), offset: Number(m[2]), key: m[3], value: m[4] };
    });
    assert.deepEqual(lines.map((l) => `${l.key}=${l.value}`).sort(), produced.map((m) => `${m.key}=${m.value}`).sort());
    for (const p of [0, 1]) {
      const inPartition = lines.filter((l) => l.partition === p);
      assert.deepEqual(inPartition.map((l) => l.offset), inPartition.map((_, i) => i), `offsets of partition ${p}`);
      assert.equal(inPartition.length, counts[p], `partition ${p} holds what the consumer saw before the crash`);
      for (const key of new Set(inPartition.map((l) => l.key))) {
        const sequence = inPartition.filter((l) => l.key === key).map((l) => Number(l.value.slice('kcat-'.length)));
        assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), `key ${key} in produce order`);
      }
    }
    // The committed offsets were reloaded from __consumer_offsets by the restarted coordinator.
    assert.deepEqual(await fetchCommitted(), committed.map(String), 'committed offsets after the crash');
  } finally {
    cli?.kill('SIGKILL');
    await cli?.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
