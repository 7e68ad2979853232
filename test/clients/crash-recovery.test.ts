// The data a broker acknowledged survives `kill -9` of the broker process and a restart on the same dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { spawnCli, CliProcess } from '../helpers/cli';
import { ControlClient } from '../../src/broker/cluster/controlClient';
import { tempDir } from '../helpers/broker';

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
    const { brokers } = await ControlClient.forDir(dir).state();
    for (const b of brokers) if (b.pid) process.kill(b.pid, 'SIGKILL');
    cli.kill('SIGKILL');
    await cli.exited;
    cli = await spawnCli(['start', '--brokers', '1', '--port', String(port), '--dir', dir]);

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
