// A follower whose disk fills up (broker 2's log directory on a 4 MiB tmpfs): it warns ONCE, backs off instead of
// refetching in a busy loop, drops out of the ISR while the leader keeps serving, and catches up by itself once
// space is freed (one info line), after which acks=all works again. Needs root (mount -t tmpfs); skipped otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTopics } from '../../src/protocol/apis';
import { ErrorCode } from '../../src/protocol/errorCode';
import { tempDir } from '../helpers/broker';
import { partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire, produce } from '../helpers/wire';

const dir = tempDir('minikafka-follower-full-');
const smallDisk = join(dir, 'broker-2');
const filler = join(smallDisk, 'filler');
let mountProblem: string | null = null;
let cluster: TestCluster | undefined;

before(async () => {
  mkdirSync(smallDisk, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', smallDisk], { stdio: 'pipe' });
  } catch (err) {
    mountProblem = `cannot mount a small tmpfs (needs root): ${(err as Error).message.split('\n')[0]}`;
    return;
  }
  cluster = await startTestCluster(['--log-level', 'info', '--config', 'replica.lag.time.max.ms=2000'], 2, dir);
});

after(async () => {
  await cluster?.stop(true).catch(() => {});
  if (!mountProblem) execFileSync('umount', [smallDisk]);
  rmSync(dir, { recursive: true, force: true });
});

const value = (i: number) => `record ${i} `.padEnd(60 * 1024, 'y');
const lines = (re: RegExp) => (cluster?.cli.output() ?? '').split('\n').filter((l) => re.test(l));

describe('a follower with a full disk', () => {
  test('warns once, leaves the ISR, the leader goes on; catches up once space is freed', async (t) => {
    if (mountProblem) return t.skip(mountProblem);
    const c = cluster!;
    const leaderPort = (await c.state()).brokers.find((b) => b.id === 1)!.port;
    const wire = await connectWire(`127.0.0.1:${leaderPort}`);
    try {
      const created = await wire.request(CreateTopics, 5, {
        topics: [{ name: 'replicated', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(created.topics[0].errorCode, 0, created.topics[0].errorMessage ?? '');
      await c.waitForState((s) => partitionOf(s, 'replicated', 0).isr.length === 2, 15000, 'full ISR');
      writeFileSync(filler, Buffer.alloc(3 * 1024 * 1024));

      // 2 MiB with acks=1: the leader (broker 1, a roomy disk) takes it all; the follower cannot.
      for (let i = 0; i < 34; i++) assert.equal((await produce(wire, 'replicated', 0, [{ value: value(i) }], 1)).errorCode, 0);
      await c.waitForState((s) => partitionOf(s, 'replicated', 0).isr.length === 1, 15000, 'the full follower leaving the ISR');
      const warning = /WARN .*\[broker 2\] cannot write replicated-0 in .*: no space left on device \(ENOSPC\); this replica stops following the leader/;
      assert.equal(lines(warning).length, 1, c.cli.output());
      // The leader serves on, with acks=1 (acks=all would need min.insync.replicas=1 and the ISR it has: fine too).
      assert.equal((await produce(wire, 'replicated', 0, [{ value: 'while the follower is full' }], -1)).errorCode, 0);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(lines(warning).length, 1, 'warned again while still full');

      unlinkSync(filler);
      await c.waitForState((s) => partitionOf(s, 'replicated', 0).isr.length === 2, 20000, 'the follower back in the ISR');
      assert.equal(lines(/INFO .*\[broker 2\] replicated-0: writes work again; replication resumed/).length, 1, c.cli.output());
      const res = await produce(wire, 'replicated', 0, [{ value: 'both in sync again' }], -1);
      assert.equal(res.errorCode, ErrorCode.NONE, res.errorMessage ?? '');
      assert.equal(res.baseOffset, 35);
      assert.equal(lines(/ERROR/).length, 0, c.cli.output());
    } finally {
      wire.close();
    }
  });
});
