// What the controller (in the supervisor) decides, on real broker processes: the controller role Metadata names
// moves off a dead broker; a broker added to a running cluster serves and hosts replicas; a follower that stops
// fetching leaves the ISR after replica.lag.time.max.ms even before it is fenced; unclean.leader.election.enable
// honoured as a broker setting and when it is turned on for a topic with an offline partition.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlterConfigs, CreateTopics, Metadata } from '../../src/protocol/apis';
import { runCli } from '../helpers/cli';
import { partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire, fetchRecords, produce } from '../helpers/wire';
import type { WireClient } from '../../src/broker/wireClient';

let cluster: TestCluster;

before(async () => {
  // A long session timeout: a paused broker is not fenced during these tests, so only the leader's lag check
  // can take it out of an ISR.
  cluster = await startTestCluster(['--session-timeout-ms', '60000', '--config', 'replica.lag.time.max.ms=1000']);
});

after(async () => {
  await cluster?.stop();
});

async function wireTo(c: TestCluster, brokerId: number): Promise<WireClient> {
  const b = (await c.state()).brokers.find((x) => x.id === brokerId)!;
  return connectWire(`${b.host}:${b.port}`);
}

async function liveBroker(c: TestCluster, exclude: number[] = []): Promise<number> {
  const s = await c.state();
  return s.brokers.find((b) => b.state === 'running' && !b.fenced && !exclude.includes(b.id))!.id;
}

async function createTopic(c: TestCluster, name: string, assignment: number[], configs: Record<string, string> = {}): Promise<void> {
  const w = await wireTo(c, await liveBroker(c));
  const res = await w.request(CreateTopics, 5, {
    topics: [{ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: assignment }], configs: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })) }],
    timeoutMs: 5000,
  });
  w.close();
  assert.equal(res.topics[0].errorCode, 0, res.topics[0].errorMessage ?? '');
  await c.waitForState((s) => partitionOf(s, name, 0).isr.length === assignment.length, 15000, `full ISR of ${name}`);
}

async function metadataControllerId(c: TestCluster, via: number): Promise<number> {
  const w = await wireTo(c, via);
  const md = await w.request(Metadata, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  w.close();
  return md.controllerId;
}

describe('the controller', () => {
  test("the controller Metadata names moves to a live broker when its broker dies, and stays there when it returns", async () => {
    const first = await metadataControllerId(cluster, await liveBroker(cluster));
    assert.ok(first >= 1 && first <= 3);
    await cluster.control.broker(first, 'kill');
    const other = await liveBroker(cluster, [first]);
    let now = -1;
    for (let i = 0; i < 50 && (now === -1 || now === first); i++) {
      now = await metadataControllerId(cluster, other);
      if (now === first) await new Promise((r) => setTimeout(r, 100));
    }
    assert.notEqual(now, first, 'Metadata no longer names the dead broker as controller');
    assert.equal((await cluster.state()).brokers.find((b) => b.id === now)?.state, 'running');
    await cluster.control.broker(first, 'restart');
    await cluster.waitForState((s) => s.brokers.every((b) => b.state === 'running' && !b.fenced), 15000, 'all brokers back');
    assert.equal(await metadataControllerId(cluster, first), now, 'the returning broker learns the controller, which did not move back');
  });

  test('`minikafka broker add` starts broker 4, which serves clients and hosts replicas', async () => {
    const res = await runCli(['broker', 'add', '--dir', cluster.dir]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^broker 4: 127\.0\.0\.1:\d+ \(pid \d+\)/);
    await cluster.waitForState((s) => s.brokers.some((b) => b.id === 4 && b.state === 'running' && !b.fenced), 10000, 'broker 4 registered');
    await createTopic(cluster, 'on-four', [4, 1]);
    const w = await wireTo(cluster, 4);
    assert.equal((await produce(w, 'on-four', 0, [{ value: 'hello from 4' }], -1)).errorCode, 0);
    const read = await fetchRecords(w, 'on-four', 0, 0);
    assert.deepEqual(read.decoded.map((r) => r.value?.toString()), ['hello from 4']);
    w.close();
    const list = await runCli(['broker', 'list', '--dir', cluster.dir]);
    assert.match(list.stdout, /^4\t127\.0\.0\.1:\d+\trunning/m);
  });

  test('`minikafka broker pause|resume|stop|restart` act on the process and say so', async () => {
    const cli = async (...args: string[]) => {
      const r = await runCli(['broker', ...args, '--dir', cluster.dir]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const stateOf = async (id: number) => (await cluster.state()).brokers.find((b) => b.id === id)?.state;
    assert.match(await cli('pause', '2'), /^broker 2: paused \(SIGSTOP\)/);
    assert.equal(await stateOf(2), 'paused');
    assert.match(await cli('resume', '2'), /^broker 2: resumed \(SIGCONT\)/);
    assert.equal(await stateOf(2), 'running');
    assert.match(await cli('stop', '3'), /^broker 3: stopped/);
    assert.equal(await stateOf(3), 'stopped');
    assert.match(await cli('list'), /^3\t127\.0\.0\.1:\d+\tstopped/m);
    assert.match(await cli('restart', '3'), /^broker 3: restarted \(pid \d+\)/);
    await cluster.waitForState((s) => s.brokers.every((b) => b.state === 'running' && !b.fenced), 15000, 'all brokers running');
    const bad = await runCli(['broker', 'kill', '9', '--dir', cluster.dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^minikafka: [^\n]*9[^\n]*\n$/, 'an unknown broker id is one line');
  });

  test('a follower that stops fetching leaves the ISR after replica.lag.time.max.ms, before the session timeout fences it', async () => {
    await createTopic(cluster, 'lagging', [1, 2, 3]);
    const leader = partitionOf(await cluster.state(), 'lagging', 0).leader;
    const follower = [1, 2, 3].find((b) => b !== leader)!;
    const w = await wireTo(cluster, leader);
    await cluster.control.broker(follower, 'pause');
    try {
      // Traffic keeps the leader's log end moving away from the paused follower.
      const t0 = Date.now();
      let s = await cluster.state();
      while (partitionOf(s, 'lagging', 0).isr.includes(follower) && Date.now() - t0 < 5000) {
        await produce(w, 'lagging', 0, [{ value: 'tick' }], 1);
        await new Promise((r) => setTimeout(r, 100));
        s = await cluster.state();
      }
      const elapsed = Date.now() - t0;
      assert.ok(!partitionOf(s, 'lagging', 0).isr.includes(follower), `broker ${follower} left the ISR (after ${elapsed} ms)`);
      // Kafka measures from the follower's last fetch that reached the log end, which can precede the pause by
      // up to one fetch wait, and checks every lag/2: so out within lag + lag/2 of the pause, give or take load.
      assert.ok(elapsed < 3000, `out within about replica.lag.time.max.ms (took ${elapsed} ms)`);
      assert.equal(s.brokers.find((b) => b.id === follower)?.fenced, false, 'the paused broker is not fenced yet (60 s session timeout)');
    } finally {
      await cluster.control.broker(follower, 'resume');
    }
    await cluster.waitForState((st) => partitionOf(st, 'lagging', 0).isr.length === 3, 15000, 'the resumed follower back in the ISR');
    w.close();
  });

  test('turning unclean.leader.election.enable on elects an offline partition at once; the old leader truncates what was lost', async () => {
    await createTopic(cluster, 'unclean-later', [2, 3]);
    const values = async (broker: number) => {
      const w = await wireTo(cluster, broker);
      const read = await fetchRecords(w, 'unclean-later', 0, 0);
      w.close();
      return read.decoded.map((r) => r.value?.toString());
    };
    let w = await wireTo(cluster, 2);
    assert.equal((await produce(w, 'unclean-later', 0, [{ value: 'kept' }], -1)).errorCode, 0);
    w.close();
    await cluster.control.broker(3, 'kill');
    await cluster.waitForState((s) => partitionOf(s, 'unclean-later', 0).isr.join() === '2', 5000, 'ISR [2]');
    // Written while broker 2 is alone in the ISR: lost when the out-of-sync broker 3 is made leader.
    w = await wireTo(cluster, 2);
    assert.equal((await produce(w, 'unclean-later', 0, [{ value: 'lost 1' }, { value: 'lost 2' }], 1)).errorCode, 0);
    w.close();
    await cluster.control.broker(2, 'kill');
    await cluster.control.broker(3, 'restart');
    let s = await cluster.waitForState((st) => st.brokers.find((b) => b.id === 3)?.state === 'running', 10000, 'broker 3 back');
    await new Promise((r) => setTimeout(r, 300));
    s = await cluster.state();
    assert.equal(partitionOf(s, 'unclean-later', 0).leader, -1, 'offline: broker 3 was not in sync');
    w = await wireTo(cluster, 1);
    const res = await w.request(AlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'unclean-later', configs: [{ name: 'unclean.leader.election.enable', value: 'true' }] }],
      validateOnly: false,
    });
    w.close();
    assert.equal(res.responses[0].errorCode, 0, res.responses[0].errorMessage ?? '');
    s = await cluster.waitForState((st) => partitionOf(st, 'unclean-later', 0).leader === 3, 5000, 'unclean leader 3');
    assert.deepEqual(partitionOf(s, 'unclean-later', 0).isr, [3]);
    w = await wireTo(cluster, 3);
    assert.equal((await produce(w, 'unclean-later', 0, [{ value: 'after' }], 1)).errorCode, 0);
    w.close();
    assert.deepEqual(await values(3), ['kept', 'after']);

    // Broker 2 returns with a log that diverged at offset 1: it must truncate to the new leader's epoch history
    // and copy what the leader has, as Kafka's followers do.
    await cluster.control.broker(2, 'restart');
    await cluster.waitForState((st) => partitionOf(st, 'unclean-later', 0).isr.length === 2, 20000, 'broker 2 back in the ISR');
    await cluster.control.broker(3, 'kill');
    await cluster.waitForState((st) => partitionOf(st, 'unclean-later', 0).leader === 2, 5000, 'broker 2 leads again');
    assert.deepEqual(await values(2), ['kept', 'after'], 'the lost records are gone from broker 2 and the new one is there');
    await cluster.control.broker(3, 'restart');
    await cluster.waitForState((st) => partitionOf(st, 'unclean-later', 0).isr.length === 2, 20000, 'full ISR at the end');
  });
});

describe('unclean.leader.election.enable=true as a broker setting', () => {
  let unclean: TestCluster;
  before(async () => {
    unclean = await startTestCluster(['--config', 'unclean.leader.election.enable=true']);
  });
  after(async () => {
    await unclean?.stop();
  });

  test('a returning out-of-sync replica of a topic without its own setting becomes leader', async () => {
    await createTopic(unclean, 'unclean-default', [2, 3]);
    await unclean.control.broker(3, 'kill');
    await unclean.waitForState((s) => partitionOf(s, 'unclean-default', 0).isr.join() === '2', 5000, 'ISR [2]');
    await unclean.control.broker(2, 'kill');
    await unclean.waitForState((s) => partitionOf(s, 'unclean-default', 0).leader === -1, 5000, 'offline');
    await unclean.control.broker(3, 'restart');
    const s = await unclean.waitForState((st) => partitionOf(st, 'unclean-default', 0).leader === 3, 10000, 'unclean leader 3');
    assert.deepEqual(partitionOf(s, 'unclean-default', 0).isr, [3]);
  });
});
