// Many partitions under a low open-file limit: the whole cluster runs under `prlimit --nofile=256:256`, and 300
// partitions RF 3 put 300 replicas on each broker. Each replica used to hold three descriptors (.log, .index,
// .timeindex): 900 per broker, and the brokers ran out. Now the indexes live in memory and a broker keeps at most a
// quarter of its soft limit of segment files open (64 here), closing the least recently used ones. acks=all writes
// to every partition, in rounds (so that every file is closed and reopened), are all read back, from the first
// leaders and again after a kill -9 of a broker; no replica goes offline and no broker passes its limit. Then one
// broker's limit is lowered below what it holds: EMFILE makes it close half of its cached files and retry, unseen.
// Needs Linux (prlimit, /proc).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { WireClient } from '../../src/broker/wireClient';
import { CreateTopics } from '../../src/protocol/apis';
import { ErrorCode } from '../../src/protocol/errorCode';
import { assertAckedReadBack, PartitionValue } from '../helpers/acks';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire, fetchRecords, produce } from '../helpers/wire';

const LIMIT = 256;
const TOPICS = 30;
const PARTITIONS = 10;
const ROUNDS = 3;

let problem: string | null = null;
let cluster: TestCluster | undefined;

before(async () => {
  if (process.platform !== 'linux') {
    problem = 'needs Linux (/proc, prlimit)';
    return;
  }
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'pipe' });
  } catch {
    // On Linux the test must run, not skip: .ci/run installs util-linux.
    throw new Error('prlimit (Debian package util-linux) is not installed: this test needs it on Linux');
  }
  cluster = await startTestCluster(['--log-level', 'info'], 3, undefined, ['prlimit', `--nofile=${LIMIT}:${LIMIT}`]);
});

after(async () => {
  await cluster?.stop();
});

/** Descriptors of a process, and how many of them are segment files (.log) and index files. */
function descriptors(pid: number): { total: number; logs: number; indexes: number } {
  let logs = 0;
  let indexes = 0;
  const fds = readdirSync(`/proc/${pid}/fd`);
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.endsWith('.log')) logs++;
      else if (target.endsWith('.index') || target.endsWith('.timeindex')) indexes++;
    } catch {
      // closed meanwhile
    }
  }
  return { total: fds.length, logs, indexes };
}

/** The cluster's warnings and errors, last first lines: what a failed assertion shows. */
function warnings(): string {
  const lines = (cluster?.cli.output() ?? '').split('\n').filter((l) => /WARN|ERROR/.test(l));
  return lines.slice(-20).join('\n');
}

function softLimitOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  return Number(line.split(/\s+/)[3]);
}

describe('300 partitions RF 3 under ulimit -n 256', () => {
  test('acks=all writes to every partition are all read back, before and after a kill -9; no broker runs out of descriptors', async (t) => {
    if (problem) return t.skip(problem);
    const c = cluster!;
    const state = await c.state();
    const pids = new Map(state.brokers.map((b) => [b.id, b.pid!]));
    for (const pid of pids.values()) assert.equal(softLimitOf(pid), LIMIT, 'the brokers run under the low limit');

    const clients = new Map<number, WireClient>();
    const clientOf = async (brokerId: number) => {
      let client = clients.get(brokerId);
      if (!client) {
        const b = (await c.state()).brokers.find((x) => x.id === brokerId)!;
        client = await connectWire(`127.0.0.1:${b.port}`);
        clients.set(brokerId, client);
      }
      return client;
    };
    try {
      const names = Array.from({ length: TOPICS }, (_, i) => `fd-${i}`);
      const created = await (await clientOf(1)).request(CreateTopics, 5, {
        topics: names.map((name) => ({ name, numPartitions: PARTITIONS, replicationFactor: 3, assignments: [], configs: [] })),
        timeoutMs: 30000,
        validateOnly: false,
      });
      for (const r of created.topics) assert.equal(r.errorCode, 0, `${r.name}: ${r.errorMessage}`);
      const fullIsrEverywhere = (s: Awaited<ReturnType<TestCluster['state']>>) =>
        names.every((n) => s.topics.find((x) => x.name === n)?.partitions.every((p) => p.leader !== -1 && p.isr.length === 3));
      await c.waitForState(fullIsrEverywhere, 60000, 'every partition led with a full ISR');

      // Rounds over every partition: each round reopens files the cap closed in the previous one.
      const acked = new Map<string, PartitionValue[]>();
      const writeRound = async (round: number) => {
        const s = await c.state();
        for (const name of names) {
          const topic = s.topics.find((x) => x.name === name)!;
          await Promise.all(
            topic.partitions.map(async (p) => {
              const value = `${name}/${p.partition}/round-${round}`;
              const res = await produce(await clientOf(p.leader), name, p.partition, [{ value: Buffer.from(value) }], -1);
              assert.equal(res.errorCode, ErrorCode.NONE, `${name}-${p.partition} round ${round}: error ${res.errorCode}\n${warnings()}`);
              const list = acked.get(name) ?? [];
              list.push({ partition: p.partition, value });
              acked.set(name, list);
            }),
          );
        }
      };
      for (let round = 0; round < ROUNDS; round++) {
        await writeRound(round);
        for (const [id, pid] of pids) {
          const fds = descriptors(pid);
          assert.equal(fds.indexes, 0, `broker ${id} holds no index file open`);
          assert.ok(fds.logs <= LIMIT / 4, `broker ${id}: ${fds.logs} segment files open, over its budget of ${LIMIT / 4}`);
          assert.ok(fds.total < LIMIT - 16, `broker ${id}: ${fds.total} descriptors, close to the limit of ${LIMIT}`);
        }
      }

      const readBack = async (what: string) => {
        const s = await c.state();
        for (const name of names) {
          const topic = s.topics.find((x) => x.name === name)!;
          const read: PartitionValue[] = [];
          for (const p of topic.partitions) {
            const wanted = acked.get(name)!.filter((m) => m.partition === p.partition).map((m) => m.value);
            // A new leader's high watermark covers what the old one acknowledged once its followers fetched again:
            // until then a consumer (this fetch) sees less. Lost data would not show up however long we wait.
            const deadline = Date.now() + 10_000;
            let values: string[] = [];
            for (;;) {
              const res = await fetchRecords(await clientOf(p.leader), name, p.partition, 0);
              assert.equal(res.errorCode, ErrorCode.NONE, `${what}: fetch ${name}-${p.partition} from broker ${p.leader}: error ${res.errorCode}`);
              values = res.decoded.map((r) => r.value!.toString());
              if (wanted.every((v) => values.includes(v)) || Date.now() > deadline) break;
              await new Promise((r) => setTimeout(r, 100));
            }
            for (const value of values) read.push({ partition: p.partition, value });
          }
          assertAckedReadBack(acked.get(name)!, read);
        }
      };
      await readBack('from the first leaders');

      // kill -9 of broker 1: its partitions move to replicas that also kept their files under the cap.
      process.kill(pids.get(1)!, 'SIGKILL');
      clients.get(1)?.close();
      clients.delete(1);
      await c.waitForState(
        (s) => names.every((n) => s.topics.find((x) => x.name === n)!.partitions.every((p) => p.leader === 2 || p.leader === 3)),
        30000,
        'every partition led by broker 2 or 3',
      );
      await readBack('after kill -9 of broker 1');
      assert.doesNotMatch(c.cli.output(), /cannot open its log|EMFILE|too many open files/i, 'no replica went offline, no EMFILE surfaced');

      // Broker 2's limit lowered below what it holds (prlimit --pid): its next opens of a segment file fail with
      // EMFILE until the cache closes half of its files and tries again, which then works. Nothing surfaces.
      const pid2 = pids.get(2)!;
      const held = descriptors(pid2);
      assert.ok(held.logs > 16, `broker 2 holds ${held.logs} segment files`);
      const lowered = held.total - 8;
      execFileSync('prlimit', ['--pid', String(pid2), `--nofile=${lowered}:${LIMIT}`]);
      assert.equal(softLimitOf(pid2), lowered);
      await writeRound(ROUNDS);
      await readBack('with broker 2 over its lowered limit');
      const shed = descriptors(pid2);
      assert.ok(shed.total < lowered, `broker 2 shed files to get under its limit: ${shed.total} descriptors, limit ${lowered}`);
      assert.ok(shed.logs <= held.logs / 2 + 1, `broker 2 closed half of its segment files and stayed there (${held.logs} -> ${shed.logs})`);
      assert.doesNotMatch(c.cli.output(), /cannot open its log|EMFILE|too many open files/i, 'the retry after shedding worked every time');
    } finally {
      for (const client of clients.values()) client.close();
    }
  });
});
