// No single point of failure: kill -9 of the supervisor (the controller) leaves the brokers serving with the last
// metadata; a broker starts a new supervisor that adopts them, and the cluster then elects leaders again. A
// `minikafka start` by hand on a dir whose brokers outlived their supervisor adopts them too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ControlClient, readControlInfo } from '../../src/broker/cluster/controlClient';
import type { ClusterState } from '../../src/broker/cluster/supervisor';
import { runCli, spawnCli } from '../helpers/cli';
import { fullIsr, partitionOf, startTestCluster } from '../helpers/cluster';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The supervisor now answering for `dir`, once it is another process than `oldPid`. */
async function waitForNewSupervisor(dir: string, oldPid: number, timeoutMs: number): Promise<{ client: ControlClient; state: ClusterState }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const client = new ControlClient(readControlInfo(dir));
      const state = await client.state();
      if (state.supervisor && state.supervisor.pid !== oldPid && state.brokers.every((b) => b.state === 'running' && !b.fenced)) return { client, state };
      last = JSON.stringify(state.supervisor);
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`no new supervisor for ${dir} within ${timeoutMs} ms (last: ${last})`);
}

/** Stops whatever runs in `dir` now: the current supervisor, and any broker pid left over. */
async function cleanUp(dir: string, pids: number[]): Promise<void> {
  try {
    await new ControlClient(readControlInfo(dir)).shutdown();
  } catch {
    /* no supervisor */
  }
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

test('kill -9 of the supervisor under load: acks=all produce and consume go on, a new supervisor adopts the brokers and elects again', async () => {
  const cluster = await startTestCluster();
  const dir = cluster.dir;
  const first = await cluster.state();
  const pids = first.brokers.map((b) => b.pid!);
  const kafka = new Kafka({ clientId: 'spof', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: 'spof-group', sessionTimeout: 10000, heartbeatInterval: 500 });
  let stopProducing = false;
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'spof', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    await cluster.waitForState((s) => fullIsr(s, 'spof'), 15000, 'full ISR of spof');

    const received = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic: 'spof', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.add(message.value!.toString()) });

    await producer.connect();
    const acked: Array<{ value: string; at: number }> = [];
    let n = 0;
    const producing = (async () => {
      while (!stopProducing) {
        const value = `m${n++}`;
        try {
          await producer.send({ topic: 'spof', acks: -1, messages: [{ key: value, value }] });
          acked.push({ value, at: Date.now() });
        } catch {
          /* counted by its absence from acked */
        }
        await sleep(20);
      }
    })();
    await sleep(1000);

    const oldPid = first.supervisor!.pid;
    const killed = await runCli(['controller', 'kill', '--dir', dir]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, new RegExp(`controller \\(supervisor\\) pid ${oldPid}: killed \\(SIGKILL\\)`));
    const killedAt = Date.now();
    await sleep(900);
    // Before any new supervisor can be there (a broker waits about a second): brokers served alone.
    const ackedAlone = acked.filter((a) => a.at > killedAt + 100 && a.at < killedAt + 900).length;
    assert.ok(ackedAlone > 5, `acks=all sends acknowledged while no supervisor ran: ${ackedAlone}`);
    assert.ok(pids.every(alive), 'every broker outlived the supervisor');
    assert.ok(!alive(oldPid) || (await readStat(oldPid)) === 'Z', 'the supervisor is gone');

    const { client, state } = await waitForNewSupervisor(dir, oldPid, 10000);
    assert.equal(state.supervisor!.adopted, true);
    assert.deepEqual(state.brokers.map((b) => b.pid), pids, 'the same broker processes, adopted');
    const listed = await runCli(['broker', 'list', '--dir', dir]);
    assert.match(listed.stdout, new RegExp(`controller \\(supervisor\\) pid ${state.supervisor!.pid}`));

    // The new controller works: a leader killed with -9 is replaced.
    const victim = partitionOf(state, 'spof', 0).leader;
    await client.broker(victim, 'kill');
    const deadline = Date.now() + 10000;
    let leader = victim;
    while (Date.now() < deadline && (leader === victim || leader === -1)) {
      leader = partitionOf(await client.state(), 'spof', 0).leader;
      await sleep(50);
    }
    assert.ok(leader !== victim && leader !== -1, `a new leader for spof-0 after killing broker ${victim}: ${leader}`);
    const ackedBefore = acked.length;
    await sleep(1500);
    assert.ok(acked.length > ackedBefore, 'produce goes on after the failover');

    stopProducing = true;
    await producing;
    const want = acked.map((a) => a.value);
    for (let i = 0; i < 200 && want.some((v) => !received.has(v)); i++) await sleep(100);
    const missing = want.filter((v) => !received.has(v));
    assert.deepEqual(missing, [], `every acknowledged record was consumed (${want.length} acked)`);
  } finally {
    stopProducing = true;
    await producer.disconnect().catch(() => undefined);
    await consumer.disconnect().catch(() => undefined);
    await cleanUp(dir, pids);
    await cluster.stop();
  }
});

async function readStat(pid: number): Promise<string> {
  const { readFileSync } = await import('node:fs');
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

test('minikafka start on a dir whose brokers outlived their supervisor adopts them', async () => {
  // Brokers of this cluster do not start a supervisor themselves: the hand-run start below is the one.
  process.env.MINIKAFKA_RESURRECT = 'off';
  const cluster = await startTestCluster().finally(() => delete process.env.MINIKAFKA_RESURRECT);
  const dir = cluster.dir;
  const before = await cluster.state();
  const pids = before.brokers.map((b) => b.pid!);
  try {
    const kafka = new Kafka({ clientId: 'adopt', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'adopted', acks: -1, messages: [{ value: 'before' }] });
    cluster.cli.kill('SIGKILL');
    await cluster.cli.exited;
    await sleep(1500);
    assert.ok(pids.every(alive), 'brokers run without a supervisor');
    await producer.send({ topic: 'adopted', acks: -1, messages: [{ value: 'during' }] });

    const again = await spawnCli(['start', '--brokers', '3', '--port', '0', '--dir', dir, '--log-level', 'warn']);
    try {
      const out = again.output();
      for (const b of before.brokers) assert.match(out, new RegExp(`broker ${b.id}: ${b.host}:${b.port} \\(pid ${b.pid}\\)`));
      assert.match(out, /adopted running brokers/);
      assert.equal(again.bootstrap, cluster.bootstrap);
      const state = await new ControlClient(readControlInfo(dir)).state();
      assert.equal(state.supervisor!.pid, again.child.pid);
      assert.deepEqual(state.brokers.map((b) => b.pid), pids);
      await producer.send({ topic: 'adopted', acks: -1, messages: [{ value: 'after' }] });
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets('adopted');
      await admin.disconnect();
      assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 3);
    } finally {
      again.kill('SIGTERM');
      await again.exited;
    }
    assert.ok(!pids.some(alive) || (await Promise.all(pids.map(readStat))).every((s) => s === '' || s === 'Z'), 'a clean stop of the adopting supervisor stops the adopted brokers');
  } finally {
    await cleanUp(dir, pids);
    await cluster.stop();
  }
});

test('a SASL cluster whose users came from MINIKAFKA_USERS gets a new supervisor too, and the brokers it spawns log those users in', async () => {
  // The first supervisor drops MINIKAFKA_USERS from its environment (brokers get salted credentials only), so the
  // supervisor a broker starts has no users on its command line: it takes them from the cluster's metadata.
  process.env.MINIKAFKA_USERS = 'envuser:env-secret';
  let cluster;
  try {
    cluster = await startTestCluster(['--sasl', 'plain'], 2);
  } finally {
    delete process.env.MINIKAFKA_USERS;
  }
  const dir = cluster.dir;
  const first = await cluster.state();
  const pids = first.brokers.map((b) => b.pid!);
  try {
    const killed = await runCli(['controller', 'kill', '--dir', dir]);
    assert.equal(killed.code, 0, killed.stderr);
    const { client, state } = await waitForNewSupervisor(dir, first.supervisor!.pid, 10000);
    assert.equal(state.supervisor!.adopted, true);

    // A broker the new supervisor spawns must know the users: restart broker 1, then log in there alone.
    await client.broker(1, 'restart');
    let restarted = await client.state();
    for (let i = 0; i < 100 && !(restarted.brokers.find((b) => b.id === 1)?.state === 'running' && restarted.brokers.find((b) => b.id === 1)?.pid !== pids[0]); i++) {
      await sleep(100);
      restarted = await client.state();
    }
    const b1 = restarted.brokers.find((b) => b.id === 1)!;
    assert.notEqual(b1.pid, pids[0], 'broker 1 is a new process');
    const kafka = new Kafka({ clientId: 'sasl-adopt', brokers: [`${b1.host}:${b1.port}`], sasl: { mechanism: 'plain', username: 'envuser', password: 'env-secret' }, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'sasl-adopt', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'sasl-adopt', acks: -1, messages: [{ value: 'after the new supervisor' }] });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets('sasl-adopt');
    assert.equal(offsets[0].high, '1');
    await admin.disconnect();
    const wrong = new Kafka({ clientId: 'sasl-adopt-wrong', brokers: [`${b1.host}:${b1.port}`], sasl: { mechanism: 'plain', username: 'envuser', password: 'not-it' }, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await assert.rejects(wrong.connect(), /SASL|authentication|Authentication/i, 'a wrong password is refused');
  } finally {
    await cleanUp(dir, [...pids, ...(await cluster.state().then((s) => s.brokers.map((b) => b.pid!)).catch(() => []))]);
    await cluster.stop();
  }
});
