// Kafka parity (issue 13), checked with clients we did not write: kafkajs 2.2.4, kcat 1.7.1 and confluent-kafka 1.7
// (librdkafka 2.0.2, Debian's /usr/bin/python3), plus our WireClient for the exact first answer of a request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, TestBroker, tempDir } from '../helpers/broker';
import { WireClient } from '../../src/broker/wireClient';
import { FindCoordinator, Heartbeat, JoinGroup, LeaveGroup, Metadata, OffsetCommit, SyncGroup } from '../../src/protocol/apis';
import { ErrorCode } from '../../src/protocol/errorCode';

const PYTHON = '/usr/bin/python3';
const KCAT = '/usr/bin/kcat';

let broker: TestBroker;
let wire: WireClient;
let scriptDir: string;

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  wire = new WireClient('127.0.0.1', broker.broker.port, 'parity-test-inspector');
  await wire.connect();
  scriptDir = tempDir('minikafka-parity-');
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input = '', timeoutMs = 45000): Promise<Run> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => {});
  child.stdin!.end(input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a Python script given as source with JSON params in argv[1]; its last stdout line is JSON. */
export async function runPythonScript<T>(dir: string, name: string, source: string, params: Record<string, unknown>): Promise<T> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install python3 and python3-confluent-kafka`);
  const file = join(dir, name);
  writeFileSync(file, source);
  const r = await run(PYTHON, [file, JSON.stringify(params)]);
  const explain = `${name} exited with ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
  assert.equal(r.code, 0, explain);
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as T;
  } catch {
    throw new Error(`last stdout line of ${name} is not JSON\n${explain}`);
  }
}

const metadataFor = (topic: string, allowAutoTopicCreation: boolean) =>
  wire.request(Metadata, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation, includeTopicAuthorizedOperations: false });

describe('Metadata auto-creation answers as a KRaft broker does', () => {
  test('the request that creates the topic gets UNKNOWN_TOPIC_OR_PARTITION; the next one sees it with a leader', async () => {
    const refused = await metadataFor('auto-not-allowed', false);
    assert.equal(refused.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(broker.broker.topicState('auto-not-allowed'), undefined, 'allow_auto_topic_creation=false creates nothing');

    const first = await metadataFor('auto-wire', true);
    assert.equal(first.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.deepEqual(first.topics[0].partitions, []);
    const second = await metadataFor('auto-wire', true);
    assert.equal(second.topics[0].errorCode, 0);
    assert.equal(second.topics[0].partitions.length, 1);
    assert.equal(second.topics[0].partitions[0].leaderId, broker.broker.nodeId);
  });

  test('kafkajs produces to a topic that does not exist yet (it retries Metadata)', async () => {
    const kafka = new Kafka({ clientId: 'parity', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const res = await producer.send({ topic: 'auto-kafkajs', messages: [{ value: 'a' }, { value: 'b' }] });
      assert.equal(res[0].errorCode, 0);
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.deepEqual((await admin.fetchTopicOffsets('auto-kafkajs')).map((o) => o.high), ['2']);
    } finally {
      await admin.disconnect();
    }
  });

  test('kcat produces to a topic that does not exist yet and reads it back', async () => {
    if (!existsSync(KCAT)) throw new Error(`${KCAT} not found: apt-get install kcat`);
    const produced = await run(KCAT, ['-b', broker.bootstrap, '-P', '-t', 'auto-kcat'], 'one\ntwo\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await run(KCAT, ['-b', broker.bootstrap, '-C', '-t', 'auto-kcat', '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two']);
  });

  test('confluent-kafka produces to a topic that does not exist yet', async () => {
    const r = await runPythonScript<{ errors: string[]; delivered: number }>(
      scriptDir,
      'auto_create.py',
      `
import json, sys
from confluent_kafka import Producer
params = json.loads(sys.argv[1])
p = Producer({'bootstrap.servers': params['bootstrap']})
errors, delivered = [], [0]
def report(err, msg):
    if err is not None: errors.append(str(err))
    else: delivered[0] += 1
for i in range(5):
    p.produce('auto-confluent', value=('v%d' % i).encode(), on_delivery=report)
p.flush(30)
print(json.dumps({'errors': errors, 'delivered': delivered[0]}))
`,
      { bootstrap: broker.bootstrap },
    );
    assert.deepEqual(r, { errors: [], delivered: 5 });
  });
});

describe('static group membership (KIP-345)', () => {
  const group = 'static-group';
  const join = (memberId: string, groupInstanceId: string | null, protocol = 'range') =>
    wire.request(JoinGroup, 5, { groupId: group, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId, groupInstanceId, protocolType: 'consumer', protocols: [{ name: protocol, metadata: Buffer.from('subscription') }] });
  const sync = (memberId: string, generationId: number, assignments: Array<{ memberId: string; assignment: Buffer }> = []) =>
    wire.request(SyncGroup, 3, { groupId: group, generationId, memberId, groupInstanceId: 'instance-a', assignments });
  const heartbeat = (memberId: string, generationId: number) => wire.request(Heartbeat, 3, { groupId: group, generationId, memberId, groupInstanceId: 'instance-a' });

  test('a static member that rejoins under a new member id takes its place without a rebalance; the old id is fenced', async () => {
    // FindCoordinator creates __consumer_offsets; the coordinator is ready once its partition is loaded.
    let first = await join('', 'instance-a');
    for (let i = 0; i < 100 && first.errorCode !== 0; i++) {
      await wire.request(FindCoordinator, 2, { key: group, keyType: 0 });
      await new Promise((r) => setTimeout(r, 100));
      first = await join('', 'instance-a');
    }
    assert.equal(first.errorCode, 0);
    assert.equal(first.leader, first.memberId);
    const gen = first.generationId;
    const synced = await sync(first.memberId, gen, [{ memberId: first.memberId, assignment: Buffer.from('partitions of a') }]);
    assert.equal(synced.errorCode, 0);

    // The same group.instance.id joins again (a restarted process): same generation, a new member id, the old
    // leader id (so it does not reassign), and its previous assignment in SyncGroup.
    const again = await join('', 'instance-a');
    assert.equal(again.errorCode, 0);
    assert.equal(again.generationId, gen, 'no rebalance: the generation is unchanged');
    assert.notEqual(again.memberId, first.memberId);
    assert.equal(again.leader, first.memberId);
    assert.deepEqual(again.members, []);
    const resynced = await sync(again.memberId, gen);
    assert.equal(resynced.errorCode, 0);
    assert.equal(resynced.assignment.toString(), 'partitions of a');
    assert.equal((await heartbeat(again.memberId, gen)).errorCode, 0);

    // The replaced member id, still naming the instance id, is fenced (82) on Heartbeat, SyncGroup, OffsetCommit.
    assert.equal((await heartbeat(first.memberId, gen)).errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal((await sync(first.memberId, gen)).errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const commit = await wire.request(OffsetCommit, 7, {
      groupId: group,
      generationIdOrMemberEpoch: gen,
      memberId: first.memberId,
      groupInstanceId: 'instance-a',
      topics: [{ name: 'auto-wire', partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const state = broker.broker.groups.describe(group);
    assert.equal(state.state, 'Stable');
    assert.deepEqual([...state.group!.members.keys()], [again.memberId]);

    // LeaveGroup v3 by instance id: the old member id is fenced, an empty member id leaves by instance id.
    const fenced = await wire.request(LeaveGroup, 3, { groupId: group, members: [{ memberId: first.memberId, groupInstanceId: 'instance-a' }] });
    assert.equal(fenced.members[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const left = await wire.request(LeaveGroup, 3, { groupId: group, members: [{ memberId: '', groupInstanceId: 'instance-a' }] });
    assert.deepEqual([left.errorCode, left.members[0].errorCode], [0, 0]);
    assert.equal(broker.broker.groups.describe(group).group?.members.size ?? 0, 0);
  });

  test('confluent-kafka (librdkafka group.instance.id): a restarted static consumer gets its partitions back and the other member sees no rebalance', async () => {
    type Events = Array<[string, number[]]>;
    const r = await runPythonScript<{ a: Events; b: Events; a2: Events; bBefore: number }>(
      scriptDir,
      'static_members.py',
      `
import json, sys, time
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic
params = json.loads(sys.argv[1])
bs, topic, group = params['bootstrap'], params['topic'], params['group']
admin = AdminClient({'bootstrap.servers': bs})
admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(15)
events = {'a': [], 'b': [], 'a2': []}
def make(name, instance):
    def on_assign(c, parts): events[name].append(['assign', sorted(p.partition for p in parts)])
    def on_revoke(c, parts): events[name].append(['revoke', sorted(p.partition for p in parts)])
    c = Consumer({'bootstrap.servers': bs, 'group.id': group, 'group.instance.id': instance, 'session.timeout.ms': 10000,
                  'heartbeat.interval.ms': 500, 'auto.offset.reset': 'earliest'})
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    return c
def poll_until(consumers, cond, timeout=30):
    end = time.time() + timeout
    while time.time() < end and not cond():
        for c in consumers: c.poll(0.05)
def has_one(name): return bool(events[name]) and events[name][-1][0] == 'assign' and len(events[name][-1][1]) == 1
a = make('a', 'instance-a'); b = make('b', 'instance-b')
poll_until([a, b], lambda: has_one('a') and has_one('b'))
a.close()  # a static member leaves no LeaveGroup behind: its place waits for it
b_before = len(events['b'])
a2 = make('a2', 'instance-a')
poll_until([a2, b], lambda: bool(events['a2']))
poll_until([a2, b], lambda: False, 3)  # time for any rebalance to show
# Snapshot before closing: close() revokes locally.
result = {'a': events['a'], 'b': list(events['b']), 'a2': list(events['a2']), 'bBefore': b_before}
a2.close(); b.close()
print(json.dumps(result))
`,
      { bootstrap: broker.bootstrap, topic: 'static-confluent', group: 'static-confluent-group' },
    );
    const partitionsOfA = r.a.filter((e) => e[0] === 'assign').at(-1)![1];
    assert.equal(partitionsOfA.length, 1, JSON.stringify(r));
    assert.deepEqual(r.a2, [['assign', partitionsOfA]], `the restarted member gets its partition back at once: ${JSON.stringify(r)}`);
    assert.equal(r.b.length, r.bBefore, `the other member saw no revoke or assign: ${JSON.stringify(r)}`);
  });
});
