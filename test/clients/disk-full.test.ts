// A broker whose log directory fills up (a 4 MiB tmpfs): producers get KAFKA_STORAGE_ERROR (56) with a message
// at once, the log says so ONCE per partition, everything acknowledged before stays readable (a partial write is
// rolled back to the last whole batch), and producing works again as soon as space is freed, also after a restart.
// Needs root (mount -t tmpfs); skipped with a message otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errorCode';
import { startSingleNode, SingleNode } from '../../src/broker/singleNode';
import { Logger } from '../../src/broker/logger';
import { WireClient } from '../../src/broker/wireClient';
import { connectWire, fetchRecords, produce } from '../helpers/wire';

const MOUNT = `/tmp/mk-small-${process.pid}`;
const FILLER = join(MOUNT, 'filler');
const TOPIC = 'fills-up';

const lines: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: (m) => lines.push(`INFO ${m}`),
  warn: (m) => lines.push(`WARN ${m}`),
  error: (m) => lines.push(`ERROR ${m}`),
};

let mountProblem: string | null = null;
let node: SingleNode | undefined;
let wire: WireClient | undefined;

function mountSmallTmpfs(): string | null {
  mkdirSync(MOUNT, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', MOUNT], { stdio: 'pipe' });
    return null;
  } catch (err) {
    rmSync(MOUNT, { recursive: true, force: true });
    return `cannot mount a small tmpfs (needs root): ${((err as { stderr?: Buffer }).stderr ?? '').toString().trim() || (err as Error).message}`;
  }
}

async function startBroker(): Promise<void> {
  node = await startSingleNode({ dir: join(MOUNT, 'data'), logger });
  wire = await connectWire(node.bootstrap);
}

async function stopBroker(): Promise<void> {
  wire?.close();
  wire = undefined;
  await node?.stop();
  node = undefined;
}

before(async () => {
  mountProblem = mountSmallTmpfs();
  if (mountProblem) return;
  await startBroker();
});

after(async () => {
  await stopBroker().catch(() => {});
  if (!mountProblem) {
    execFileSync('umount', [MOUNT]);
    rmSync(MOUNT, { recursive: true, force: true });
  }
});

const value = (i: number) => `record ${i} `.padEnd(60 * 1024, 'x');
const warnings = (key: string) => lines.filter((l) => l.startsWith('WARN') && l.includes(`cannot write ${key} `));

describe('a full disk', () => {
  test('KAFKA_STORAGE_ERROR, one warning per partition, nothing acknowledged lost, writes again once space is freed', async (t) => {
    if (mountProblem) return t.skip(mountProblem);
    const kafka = new Kafka({ clientId: 'disk-full', brokers: [node!.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    // Most of the space goes to a file the "operator" can delete later.
    writeFileSync(FILLER, Buffer.alloc(3 * 1024 * 1024));

    const acked: string[] = [];
    let refused: Awaited<ReturnType<typeof produce>> | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await produce(wire!, TOPIC, 0, [{ value: value(i) }], 1);
      if (res.errorCode === 0) {
        assert.equal(res.baseOffset, acked.length);
        acked.push(value(i));
      } else refused = res;
    }
    assert.ok(refused, 'the disk never filled up');
    assert.ok(acked.length > 0, 'nothing fitted before the disk was full');
    assert.equal(refused.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.match(refused.errorMessage ?? '', new RegExp(`cannot write ${TOPIC}-0 in .*: no space left on device \\(ENOSPC\\)`));

    // More attempts, acks=all too, and the other partition: refused at once, each partition warned about once.
    for (let i = 0; i < 5; i++) {
      assert.equal((await produce(wire!, TOPIC, 0, [{ value: value(1000 + i) }], -1)).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    }
    let p1Refused = false;
    for (let i = 0; i < 20 && !p1Refused; i++) p1Refused = (await produce(wire!, TOPIC, 1, [{ value: value(2000 + i) }], 1)).errorCode === ErrorCode.KAFKA_STORAGE_ERROR;
    assert.ok(p1Refused);
    assert.equal((await produce(wire!, TOPIC, 1, [{ value: value(3000) }], 1)).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal(warnings(`${TOPIC}-0`).length, 1, lines.join('\n'));
    assert.equal(warnings(`${TOPIC}-1`).length, 1, lines.join('\n'));
    assert.match(warnings(`${TOPIC}-0`)[0], /no space left on device \(ENOSPC\); producers get KAFKA_STORAGE_ERROR until space is freed/);
    assert.equal(lines.filter((l) => l.startsWith('ERROR')).length, 0, lines.join('\n'));

    // A real client sees the error by name (it is retriable; with no retries it surfaces).
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    await assert.rejects(producer.send({ topic: TOPIC, acks: 1, messages: [{ partition: 0, value: value(4000) }] }), (err: Error & { type?: string }) => {
      assert.equal(err.type ?? (err as { cause?: { type?: string } }).cause?.type, 'KAFKA_STORAGE_ERROR', String(err));
      return true;
    });
    await producer.disconnect();

    // Everything acknowledged is there, whole, and nothing else.
    const before = await fetchRecords(wire!, TOPIC, 0, 0);
    assert.equal(before.highWatermark, acked.length);
    assert.deepEqual(before.decoded.map((r) => r.value?.toString()), acked);

    // Space freed: the next produce is accepted at the next offset, and the recovery is told once.
    unlinkSync(FILLER);
    const again = await produce(wire!, TOPIC, 0, [{ value: 'after the cleanup' }], -1);
    assert.equal(again.errorCode, 0, again.errorMessage ?? '');
    assert.equal(again.baseOffset, acked.length);
    assert.equal(lines.filter((l) => l.startsWith('INFO') && l.includes(`${TOPIC}-0: writes work again`)).length, 1, lines.join('\n'));
    assert.equal(warnings(`${TOPIC}-0`).length, 1);

    // On disk too: a restart reads back exactly the acknowledged records (no torn batch, indexes consistent).
    await stopBroker();
    await startBroker();
    const afterRestart = await fetchRecords(wire!, TOPIC, 0, 0);
    assert.deepEqual(afterRestart.decoded.map((r) => r.value?.toString()), [...acked, 'after the cleanup']);
    assert.equal(lines.filter((l) => /cut \d+ of \d+ bytes/.test(l)).length, 0, 'recovery had to cut a torn batch');
  });
});
