// The controller's metadata file: one durable write for all the changes made in one tick (a CreateTopics of 100
// topics is one fsync, not 100), the previous copy kept as .prev, and a torn file read from that copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../../src/broker/controller';
import { tempDir } from '../../helpers/broker';

test('changes of one tick are written once; .prev holds the image before them; a torn file falls back to it', async () => {
  const dir = tempDir('minikafka-controller-');
  const file = join(dir, 'controller', 'cluster-metadata.json');
  try {
    const controller = new Controller({ metadataFile: file });
    controller.registerBroker({ id: 1, host: '127.0.0.1', port: 1, rack: null });
    await controller.whenDurable();
    const before = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number };
    for (let i = 0; i < 100; i++) controller.createTopic({ name: `t${i}`, numPartitions: 1, replicationFactor: 1 });
    await controller.whenDurable();
    const after = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; topics: unknown[] };
    const prev = JSON.parse(readFileSync(`${file}.prev`, 'utf8')) as { epoch: number };
    assert.equal(after.topics.length, 100);
    assert.equal(after.epoch, before.epoch + 100);
    assert.equal(prev.epoch, before.epoch, 'one write for the 100 changes: .prev is the image before them');

    truncateSync(file, Math.floor(statSync(file).size / 2));
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const reloaded = new Controller({ metadataFile: file, logger: logger as never });
    assert.equal(reloaded.snapshot().epoch, before.epoch);
    assert.match(warnings.join('\n'), /is unreadable .*using the previous copy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
