// The embedded cluster's lifecycle as the extension runs it (vscode-free part): start dist/cli.js detached, follow
// the control endpoint's events, re-attach from a second instance (a window reload), act on brokers, stop.
// Also the explorer's data source on that real cluster (leaders from the control state, offsets from the brokers).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClusterAdmin } from '../../../src/client/admin';
import { RecordProducer } from '../../../src/client/producer';
import { AdminSession } from '../../../src/extension/model/adminSession';
import { EmbeddedCluster } from '../../../src/extension/model/embedded';
import { EmbeddedSource } from '../../../src/extension/model/sources';
import { nopLogger } from '../../../src/broker/logger';
import type { ClusterEvent } from '../../../src/broker/cluster/supervisor';
import { tempDir } from '../../helpers/broker';
import { waitFor } from '../../helpers/wait';

function projectRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist', 'cli.js'))) return dir;
  }
  return process.cwd();
}

const dir = tempDir('minikafka-ext-embedded-');
const env = { cliPath: join(projectRoot(), 'dist', 'cli.js'), execPath: process.execPath, logger: nopLogger, startTimeoutMs: 60000 };
const settings = () => ({ dir, brokers: 3, basePort: 0, extraArgs: ['--session-timeout-ms', '1500', '--log-level', 'warn'] });

describe('embedded cluster (extension model)', () => {
  const first = new EmbeddedCluster(settings, env);
  let second: EmbeddedCluster | undefined;
  let pid = 0;

  after(async () => {
    // Whatever happened, leave no processes behind.
    await (second ?? first).stop().catch(() => undefined);
    first.dispose();
    second?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts detached and reports every broker up', async () => {
    const statuses: string[] = [];
    first.on('status', (s) => statuses.push(s));
    const state = await first.start();
    assert.equal(first.status, 'running');
    assert.deepEqual(statuses, ['starting', 'running']);
    assert.equal(state.brokers.length, 3);
    assert.ok(state.brokers.every((b) => b.state === 'running' && !b.fenced));
    assert.equal(state.brokers.filter((b) => b.isController).length, 1);
    pid = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')).pid;
    assert.ok(existsSync(join(dir, 'supervisor.log')));
  });

  it('serves partitions with leaders from the control state and offsets from the brokers', async () => {
    const bootstrap = first.bootstrap!.split(',');
    const admin = new ClusterAdmin({ bootstrapServers: bootstrap });
    await admin.connect();
    try {
      await admin.createTopic({ name: 'ext-embedded', partitions: 2, replicationFactor: 3 });
    } finally {
      await admin.disconnect();
    }
    const producer = new RecordProducer({ bootstrapServers: bootstrap });
    await producer.connect();
    try {
      await producer.send('ext-embedded', Array.from({ length: 5 }, (_, i) => ({ value: `v${i}`, partition: 0 })));
    } finally {
      await producer.disconnect();
    }
    const session = new AdminSession(async () => ({ bootstrapServers: first.bootstrap!.split(',') }));
    const source = new EmbeddedSource(session, () => first.state);
    try {
      await waitFor(async () => (await source.topics()).some((t) => t.name === 'ext-embedded'), 5000);
      const t = await source.topic('ext-embedded');
      assert.equal(t.partitions.length, 2);
      assert.equal(t.partitions[0].high, '5');
      assert.equal(t.partitions[0].low, '0');
      assert.equal(t.partitions[0].isr.length, 3);
    } finally {
      source.dispose();
      session.dispose();
    }
  });

  it('is found again by a second instance (a window reload) and follows its events', async () => {
    second = new EmbeddedCluster(settings, env);
    assert.equal(await second.attach(), true);
    assert.equal(second.status, 'running');
    const events: ClusterEvent[] = [];
    second.on('event', (e) => events.push(e));
    const leader = second.state!.topics.find((t) => t.name === 'ext-embedded')!.partitions[0].leader;
    await second.brokerAction(leader, 'kill');
    await waitFor(
      () => {
        const p = second!.state!.topics.find((t) => t.name === 'ext-embedded')!.partitions[0];
        return p.leader !== leader && p.leader >= 0 && !p.isr.includes(leader);
      },
      2000,
      () => JSON.stringify(second!.state!.topics.find((t) => t.name === 'ext-embedded')),
    );
    // The supervisor fences a broker it kills when it sends SIGKILL: the leader moves before the kernel reports the
    // process gone, and the crash event follows within milliseconds.
    await waitFor(() => events.some((e) => e.type === 'broker-crashed' && e.broker === leader), 2000, () => JSON.stringify(events.map((e) => e.type)));
    assert.ok(events.some((e) => e.type === 'leader-changed'));
    await second.brokerAction(leader, 'restart');
    await waitFor(() => second!.state!.topics.find((t) => t.name === 'ext-embedded')!.partitions.every((p) => p.isr.length === 3), 15000);
  });

  it('follows the supervisor that replaces a killed one (Kill Controller), with the same brokers', async () => {
    const before = second!.state!;
    const killed = await second!.killController();
    assert.equal(killed, pid);
    await waitFor(() => !!second!.state?.supervisor && second!.state.supervisor.pid !== pid && second!.state.supervisor.adopted, 15000, () => JSON.stringify(second!.state?.supervisor));
    assert.equal(second!.status, 'running');
    assert.deepEqual(second!.state!.brokers.map((b) => b.pid), before.brokers.map((b) => b.pid));
    // The other instance follows it too.
    await waitFor(() => first.status === 'running' && first.state?.supervisor?.pid === second!.state!.supervisor!.pid, 15000);
    const source = new EmbeddedSource(new AdminSession(async () => ({ bootstrapServers: second!.bootstrap!.split(',') })), () => second!.state);
    assert.equal((await source.controller())?.pid, second!.state!.supervisor!.pid);
    source.dispose();
  });

  it('stops the cluster and every process of it', async () => {
    await second!.stop();
    assert.equal(second!.status, 'stopped');
    assert.throws(() => process.kill(pid, 0));
    assert.equal(existsSync(join(dir, 'control.json')), false);
    // The first instance notices that its supervisor is gone.
    await waitFor(() => first.status === 'stopped', 5000);
    assert.equal(await new EmbeddedCluster(settings, env).attach(), false);
  });

  it('reports a failed start with the supervisor log', async () => {
    const bad = new EmbeddedCluster(() => ({ ...settings(), brokers: 0 }), env);
    await assert.rejects(bad.start(), /did not start \(exit code \d+\)[\s\S]*brokers/);
    assert.equal(bad.status, 'stopped');
    assert.ok(bad.lastError);
    bad.dispose();
  });
});
