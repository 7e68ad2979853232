// The tail panel's host side (TailPipeline, vscode-free) reading a topic that a kafkajs transactional producer (a
// client we did not write) writes to: one transaction committed, one aborted, one left open. read_committed shows
// the committed records and both markers, nothing aborted and nothing past the open transaction; read_uncommitted
// shows every record, marked committed / aborted / open, and a row shown open takes its outcome when the marker
// arrives later.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { TailPipeline } from '../../src/extension/panels/tailPipeline';
import type { TailBatch, TailConfig, TailRow } from '../../src/shared/tailProtocol';
import { applyOutcome } from '../../src/shared/tailProtocol';
import { startTestBroker, TestBroker } from '../helpers/broker';

const TOPIC = 'tail-txn';
let broker: TestBroker;
let producer: Producer;
let openTxn: Awaited<ReturnType<Producer['transaction']>>;
const pipelines: TailPipeline[] = [];

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  const kafka = new Kafka({ clientId: 'tail-txn', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer({ transactionalId: 'tail-txn-id', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const committed = await producer.transaction();
  await committed.send({ topic: TOPIC, messages: [{ value: 'c1' }, { value: 'c2' }] }); // offsets 0, 1
  await committed.commit(); // marker at 2
  const aborted = await producer.transaction();
  await aborted.send({ topic: TOPIC, messages: [{ value: 'a1' }] }); // 3
  await aborted.abort(); // marker at 4
  openTxn = await producer.transaction();
  await openTxn.send({ topic: TOPIC, messages: [{ value: 'o1' }] }); // 5, open
});

after(async () => {
  for (const p of pipelines) await p.dispose();
  await producer?.disconnect().catch(() => {});
  await broker?.cleanup();
});

/** A pipeline like the panel's, whose page is an array: rows in order, outcomes applied as the page applies them. */
function tail(config: TailConfig): { pipeline: TailPipeline; page: TailRow[] } {
  const page: TailRow[] = [];
  const pipeline = new TailPipeline({
    connection: { bootstrapServers: [broker.bootstrap], clientId: 'tail-txn-test' },
    topic: TOPIC,
    bufferSize: 100,
    batchIntervalMs: 20,
    sink: (b: TailBatch) => {
      // The sink gets what postMessage would carry: copies.
      page.push(...(JSON.parse(JSON.stringify(b.rows)) as TailRow[]));
      for (const o of b.outcomes ?? []) applyOutcome(page, o);
    },
  });
  pipelines.push(pipeline);
  pipeline.attach(true);
  void pipeline.start(config);
  return { pipeline, page };
}

function view(rows: TailRow[]): string[] {
  return rows.map((r) => `${r.offset} ${r.control ? `${r.control}-marker` : r.value} ${r.txn?.state ?? 'plain'}`);
}

async function until(check: () => boolean, what: string, rows: () => TailRow[], ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(view(rows()))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tail panel pipeline with transactions', () => {
  test('read_committed: committed records and both markers; the aborted record and the open transaction are not shown', async () => {
    const { page } = tail({ start: { kind: 'earliest' } });
    await until(() => page.length >= 4, 'four rows', () => page);
    await new Promise((r) => setTimeout(r, 500)); // nothing more may come: the LSO is at the open transaction (5)
    assert.deepEqual(view(page), ['0 c1 committed', '1 c2 committed', '2 COMMIT-marker committed', '4 ABORT-marker aborted']);
    assert.ok(page.every((r) => r.txn && r.txn.producerId === page[0].txn!.producerId), 'one producer');
  });

  test('read_uncommitted: every record, marked committed / aborted / open; the open one turns committed at its marker', async () => {
    const { page, pipeline } = tail({ start: { kind: 'earliest' }, isolation: 'read_uncommitted' });
    await until(() => page.length >= 6, 'six rows', () => page);
    assert.deepEqual(view(page), ['0 c1 committed', '1 c2 committed', '2 COMMIT-marker committed', '3 a1 aborted', '4 ABORT-marker aborted', '5 o1 open']);
    await openTxn.commit(); // marker at 6
    await until(() => page.length >= 7 && page[5].txn?.state === 'committed', 'the commit marker and the open row settled', () => page);
    assert.deepEqual(view(page).slice(5), ['5 o1 committed', '6 COMMIT-marker committed']);
    // The host's ring holds the same answer (what a page rebuilt after being hidden gets).
    assert.deepEqual(view(pipeline.ring.toArray()), view(page));
  });

  test('the default (no isolation given) is read_committed, as the panel did before', async () => {
    const { page } = tail({ start: { kind: 'earliest' } });
    await until(() => page.length >= 6, 'six rows', () => page);
    assert.deepEqual(view(page), ['0 c1 committed', '1 c2 committed', '2 COMMIT-marker committed', '4 ABORT-marker aborted', '5 o1 committed', '6 COMMIT-marker committed']);
  });
});
