// The cluster explorer inside a real VS Code: the embedded mini-cluster started through the command (data in the
// harness's temp dir, free ports), read back through the real TreeDataProvider via the extension's test API,
// then a broker is killed and restarted and the tree follows the control endpoint's events.
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import * as vscode from 'vscode';
import { ClusterAdmin } from '../../src/client/admin';
import { openConsumer, RecordStream } from '../../src/client/consumer';
import { RecordProducer } from '../../src/client/producer';
import { Commands } from '../../src/extension/constants';
import type { MiniKafkaTestApi, TreeSnapshotNode } from '../../src/extension/testApi';
import { byId, eventually, EXTENSION_ID, expandOnly, findNode, testApi } from './helpers';

const TOPIC = 'it-replicated';
const GROUP = 'it-group';
const C = 'embedded';

describe('cluster explorer (embedded mini-cluster)', function () {
  this.timeout(120_000);
  let api: MiniKafkaTestApi;
  let bootstrap: string[];
  let consumer: RecordStream | undefined;

  const snap = (topics: string[] = [TOPIC], groups: string[] = []) =>
    api.treeSnapshot({ expand: expandOnly(topics, groups) as (n: unknown) => boolean });

  before(async () => {
    api = await testApi();
  });

  after(async () => {
    await consumer?.stop().catch(() => undefined);
    await vscode.commands.executeCommand(Commands.stopCluster, { clusterId: C }, {}).then(undefined, () => undefined);
  });

  it('records the activation time', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const dir = join(ext.extensionPath, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const result = {
      name: 'extension-activation',
      date: new Date().toISOString(),
      node: process.version,
      vscode: vscode.version,
      uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
      activateMs: Number(api.activation.activateMs.toFixed(2)),
      moduleLoadToActivateMs: Number(api.activation.moduleLoadMs.toFixed(2)),
      note: 'activateMs: time inside activate() (view, commands, status bar, panels registered; the attach probe runs after). Measured in the extension host under scripts/run-vscode-tests.mjs integration.',
    };
    writeFileSync(join(dir, 'extension-activation.json'), JSON.stringify(result, null, 2) + '\n');
    assert.ok(api.activation.activateMs < 1000, `activation took ${api.activation.activateMs} ms`);
  });

  it('starts the mini-cluster through the command and shows three brokers with a controller', async () => {
    if (api.embedded.status() === 'stopped') {
      // A fresh VS Code: nothing to show, so the view shows its welcome content (start / add connection links).
      assert.deepEqual(await snap([]), []);
      assert.equal(api.statusBar(), undefined);
    }
    const started = (await vscode.commands.executeCommand(Commands.startCluster, undefined, {})) as { bootstrap: string; dir: string };
    assert.ok(started?.bootstrap, 'startCluster returns the bootstrap servers');
    bootstrap = started.bootstrap.split(',');
    assert.equal(bootstrap.length, 3);
    assert.equal(api.embedded.status(), 'running');
    if (process.env.MINIKAFKA_EMBEDDED_DIR) assert.equal(api.embedded.dir(), process.env.MINIKAFKA_EMBEDDED_DIR);
    const { value: tree } = await eventually(() => snap([]), (t) => byId(t, C)?.contextValue === 'cluster.embedded.running', 5000, 'the running cluster');
    const folder = byId(tree, `${C}/brokers`)!;
    assert.equal(folder.description, '3/3 up');
    // Three broker rows, then the controller process (the supervisor) with Kill Controller on it.
    const brokers = { children: folder.children!.filter((b) => b.contextValue.startsWith('broker.')) };
    assert.equal(brokers.children.length, 3);
    const controllerRow = folder.children!.at(-1)!;
    assert.equal(controllerRow.contextValue, 'controller.embedded');
    assert.equal(controllerRow.description, `supervisor · pid ${api.embedded.state()!.supervisor!.pid}`);
    assert.ok(brokers.children.every((b) => b.contextValue === 'broker.up'), JSON.stringify(brokers.children));
    assert.equal(brokers.children.filter((b) => / · listed as controller · /.test(b.description ?? '')).length, 1);
    assert.deepEqual(
      brokers.children.map((b) => b.description!.split(' · ')[0]),
      bootstrap,
    );
    assert.equal(api.statusBar()?.text, '$(server) MiniKafka 3/3');
  });

  it('refuses a bad topic name before sending anything', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.createTopic, { clusterId: C, topic: 'bad name!' }, { partitions: 1 })),
      /only ASCII letters, digits/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.createTopic, { clusterId: C, topic: 'too-many-replicas' }, { partitions: 1, replicationFactor: 4 })),
      /larger than the number of live brokers \(3\)/,
    );
  });

  it('creates a topic with RF 3 and 2 partitions; partitions show leader, replicas and ISR', async () => {
    const ref = await vscode.commands.executeCommand(Commands.createTopic, { clusterId: C, topic: TOPIC }, { partitions: 2, replicationFactor: 3 });
    assert.deepEqual(ref, { clusterId: C, topic: TOPIC });
    const { value: tree } = await eventually(() => snap(), (t) => byId(t, `${C}/topics/${TOPIC}`)?.children?.length === 2, 5000, 'the new topic');
    const topic = byId(tree, `${C}/topics/${TOPIC}`)!;
    assert.equal(topic.description, '2 partitions · RF 3');
    assert.equal(topic.contextValue, 'topic');
    for (const p of topic.children!) {
      assert.match(p.label, /^P[01]$/);
      assert.match(p.description!, /^leader [123] · replicas [123],[123],[123] · isr [123],[123],[123] · offsets 0–0$/);
      assert.equal(p.contextValue, 'partition.embedded');
    }
  });

  it('filters the Topics folder by name through Filter Topics…, and clears the filter', async () => {
    const res = (await vscode.commands.executeCommand(Commands.filterTopics, { clusterId: C }, { filter: 'NO-SUCH' })) as { filter?: string };
    assert.equal(res.filter, 'NO-SUCH');
    const { value: none } = await eventually(() => snap([]), (t) => byId(t, `${C}/topics`)?.children?.length === 1, 5000, 'the filtered folder');
    const folder = byId(none, `${C}/topics`)!;
    assert.match(folder.description!, /filter "NO-SUCH"$/);
    assert.match(folder.children![0].label, /^No topic name contains "NO-SUCH" \(of 1 topic\)/);
    await vscode.commands.executeCommand(Commands.filterTopics, { clusterId: C }, { filter: TOPIC.slice(2, 6).toUpperCase() });
    const { value: one } = await eventually(() => snap([]), (t) => byId(t, `${C}/topics`)?.children?.[0]?.label === TOPIC, 5000, 'the matching topic');
    assert.equal(byId(one, `${C}/topics`)!.children!.length, 1);
    const cleared = (await vscode.commands.executeCommand(Commands.filterTopics, { clusterId: C }, { filter: '' })) as { filter?: string };
    assert.equal(cleared.filter, undefined);
    const { value: all } = await eventually(() => snap([]), (t) => !/filter/.test(byId(t, `${C}/topics`)?.description ?? ''), 5000, 'the filter cleared');
    assert.equal(byId(all, `${C}/topics`)!.children!.length, 1);
  });

  it('shows a consumer group with its member, then its lag', async () => {
    const producer = new RecordProducer({ bootstrapServers: bootstrap });
    await producer.connect();
    const send = (n: number) =>
      producer.send(
        TOPIC,
        Array.from({ length: n }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
      );
    await send(10);
    consumer = await openConsumer({ bootstrapServers: bootstrap }, { topic: TOPIC, groupId: GROUP, from: 'earliest' });
    for (let i = 0; i < 10; i++) assert.ok(await consumer.next({ timeoutMs: 20000 }), `record ${i}`);
    const { value: tree } = await eventually(
      () => snap([TOPIC], [GROUP]),
      (t) => /^Stable · 1 member · lag 0$/.test(byId(t, `${C}/groups/${GROUP}`)?.description ?? ''),
      20000,
      'the group with one member and its commits',
    );
    const group = byId(tree, `${C}/groups/${GROUP}`)!;
    assert.equal(group.contextValue, 'group.active');
    const member = group.children!.find((c) => c.kind === 'groupMember')!;
    assert.match(member.description!, new RegExp(`${TOPIC}\\[0,1\\]`));
    const offsets = group.children!.filter((c) => c.kind === 'groupOffset');
    assert.deepEqual(
      offsets.map((o) => o.description),
      ['committed 5 · end 5 · lag 0', 'committed 5 · end 5 · lag 0'],
    );

    // Kafka refuses to move the offsets of a group with members; so does the command, in words.
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.resetGroupOffsets, { clusterId: C, groupId: GROUP }, { to: 'earliest' })),
      /while it has 1 active member/,
    );

    await consumer.stop();
    consumer = undefined;
    await send(4);
    await producer.disconnect();
    await eventually(
      () => snap([TOPIC], [GROUP]),
      (t) => byId(t, `${C}/groups/${GROUP}`)?.description === 'Empty · 0 members · lag 4',
      20000,
      'the group without members and with lag 4',
    );

    const plan = (await vscode.commands.executeCommand(Commands.resetGroupOffsets, { clusterId: C, groupId: GROUP }, { to: 'earliest' })) as Array<{ offset: string }>;
    assert.deepEqual(
      plan.map((p) => p.offset),
      ['0', '0'],
    );
    await eventually(
      () => snap([TOPIC], [GROUP]),
      (t) => byId(t, `${C}/groups/${GROUP}`)?.description === 'Empty · 0 members · lag 14',
      10000,
      'the group after the reset to earliest',
    );
  });

  it('resets a group to a timestamp and to an offset where Kafka would put it (committed offsets read back with kafkajs)', async () => {
    const topic = 'it-reset-offsets';
    const group = 'it-reset-group';
    await vscode.commands.executeCommand(Commands.createTopic, { clusterId: C, topic }, { partitions: 2, replicationFactor: 1 });
    // Known CreateTime timestamps, an hour ago (well inside the default retention): P0 gets 5 records a second
    // apart, P1 gets 3 records 300 ms apart, all of P1 before P0's second record. Each partition's records go
    // in one batch, so the broker has to find the record inside the batch, not just the batch.
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
    const producer = new RecordProducer({ bootstrapServers: bootstrap });
    await producer.connect();
    try {
      await producer.send(topic, [0, 1, 2, 3, 4].map((i) => ({ value: `p0-${i}`, partition: 0, timestamp: t0 + 1000 * i })));
      await producer.send(topic, [0, 1, 2].map((i) => ({ value: `p1-${i}`, partition: 1, timestamp: t0 + 300 * i })));
    } finally {
      await producer.disconnect();
    }
    // A real group reads everything and commits, then leaves (a reset needs a group without members).
    const reader = await openConsumer({ bootstrapServers: bootstrap }, { topic, groupId: group, from: 'earliest' });
    try {
      for (let i = 0; i < 8; i++) assert.ok(await reader.next({ timeoutMs: 20000 }), `record ${i}`);
    } finally {
      await reader.stop();
    }

    // Read back with kafkajs's own admin client, not the extension's: what any Kafka client would now start from.
    const kafka = new Kafka({ brokers: bootstrap, clientId: 'it-reset-check', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () => {
      const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return t.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
    };
    const reset = async (to: unknown, extra: object = {}) =>
      ((await vscode.commands.executeCommand(Commands.resetGroupOffsets, { clusterId: C, groupId: group }, { to, ...extra })) as Array<{ partition: number; offset: string }>).map(
        (p) => p.offset,
      );
    try {
      await eventually(committed, (o) => o.join() === '5,3', 10000, 'the group to have committed the end of both partitions');

      // Kafka's --to-datetime: the first offset whose timestamp is at or after the time (ListOffsets by timestamp);
      // a partition with no record that late goes to its end (kafka-consumer-groups.sh uses the log end offset).
      // Exactly P0's second record: offset 1; P1 has nothing at or after t0+1000: its end, 3.
      assert.deepEqual(await reset({ timestamp: t0 + 1000 }), ['1', '3']);
      assert.deepEqual(await committed(), ['1', '3']);
      // Between two records (and as ISO 8601 text, as the input box takes it): the next one.
      assert.deepEqual(await reset({ timestamp: new Date(t0 + 1500).toISOString() }), ['2', '3']);
      assert.deepEqual(await committed(), ['2', '3']);
      // Inside P1's run of records: P0 has its first record at t0 (offset 0 is before, 1 is the first at/after t0+1).
      assert.deepEqual(await reset({ timestamp: t0 + 301 }), ['1', '2']);
      assert.deepEqual(await committed(), ['1', '2']);
      // Before everything: the start of both logs.
      assert.deepEqual(await reset({ timestamp: t0 - 60_000 }), ['0', '0']);
      assert.deepEqual(await committed(), ['0', '0']);

      // A dry run answers the plan and commits nothing.
      assert.deepEqual(await reset({ offset: 4 }, { dryRun: true }), ['4', '3']);
      assert.deepEqual(await committed(), ['0', '0']);

      // Kafka's --to-offset: the same offset on every partition, clamped to each partition's [start, end].
      assert.deepEqual(await reset({ offset: 4 }), ['4', '3']);
      assert.deepEqual(await committed(), ['4', '3']);
      assert.deepEqual(await reset({ offset: '2' }), ['2', '2']);
      assert.deepEqual(await committed(), ['2', '2']);
      await assert.rejects(Promise.resolve(reset({ offset: -1 })), /the offset must be a whole number ≥ 0/);
      assert.deepEqual(await committed(), ['2', '2']);
    } finally {
      await admin.disconnect();
    }
    // The explorer shows the lag the last reset left: 5-2 + 3-2.
    await eventually(
      () => snap([], [group]),
      (t) => byId(t, `${C}/groups/${group}`)?.description === 'Empty · 0 members · lag 4',
      10000,
      'the group with the lag of the last reset',
    );
    // Leave the cluster as the later tests expect it (they count topics and groups).
    await vscode.commands.executeCommand(Commands.deleteGroup, { clusterId: C, groupId: group }, {});
    await vscode.commands.executeCommand(Commands.deleteTopic, { clusterId: C, topic }, {});
  });

  it('shows a killed leader as down, a new leader and a shrunk ISR within 2 s', async () => {
    const before = await snap();
    const p0 = byId(before, `${C}/topics/${TOPIC}/0`)!;
    const oldLeader = Number(/^leader (\d+)/.exec(p0.description!)![1]);
    // A refresh the previous tests' commands asked for (the whole cluster) would take this event's rows in.
    await eventually(async () => api.refreshPending(C), (p) => !p, 5000, 'no refresh waiting');
    const refreshesBefore = api.refreshCount(C);
    const killed = (await vscode.commands.executeCommand(Commands.killPartitionLeader, { clusterId: C, topic: TOPIC, partition: 0 }, {})) as { brokerId: number };
    assert.equal(killed.brokerId, oldLeader);
    const { value: tree, ms } = await eventually(
      () => snap(),
      (t) => {
        const broker = byId(t, `${C}/brokers/${oldLeader}`);
        const p = byId(t, `${C}/topics/${TOPIC}/0`);
        const m = /^leader (\d+|none) · replicas ([\d,]+) · isr ([\d,]*)/.exec(p?.description ?? '');
        return broker?.contextValue === 'broker.down' && !!m && m[1] !== String(oldLeader) && m[1] !== 'none' && !m[3].split(',').includes(String(oldLeader));
      },
      2000,
      'the tree to show the failover',
    );
    const p = byId(tree, `${C}/topics/${TOPIC}/0`)!;
    assert.equal(p.contextValue, 'partition.underReplicated.embedded');
    assert.equal(p.iconColor, 'list.warningForeground');
    assert.match(p.tooltip!, /UNDER-REPLICATED/);
    assert.equal(byId(tree, `${C}/brokers`)!.description, '2/3 up');
    assert.match(byId(tree, `${C}/brokers/${oldLeader}`)!.description!, /down/);
    // The view itself is told through onDidChangeTreeData after the debounce, scoped to the rows that changed
    // (the Brokers and Topics folders, or topics), never the whole cluster.
    await eventually(async () => api.refreshCount(C), (n) => n > refreshesBefore, 2000, 'a refresh from the event stream');
    const redrawn = api.lastRefreshed(C);
    assert.ok(redrawn.length > 0 && !redrawn.includes(C), JSON.stringify(redrawn));
    assert.ok(redrawn.every((id) => id === `${C}/brokers` || id.startsWith(`${C}/topics`)), JSON.stringify(redrawn));
    assert.equal(api.statusBar()?.text, '$(server) MiniKafka 2/3');
    console.log(`      failover visible in the tree after ${ms} ms`);
  });

  it('restarts the broker through the command; the ISR grows back', async () => {
    const down = findNode(await snap([]), (n) => n.contextValue === 'broker.down')!;
    const brokerId = Number(down.label.replace('Broker ', ''));
    await vscode.commands.executeCommand(Commands.restartBroker, { clusterId: C, brokerId }, {});
    await eventually(
      () => snap(),
      (t) => [0, 1].every((i) => / · isr \d,\d,\d/.test(byId(t, `${C}/topics/${TOPIC}/${i}`)?.description ?? '')) && byId(t, `${C}/brokers/${brokerId}`)?.contextValue === 'broker.up',
      20000,
      'the ISR to grow back to three replicas',
    );
    assert.equal(api.statusBar()?.text, '$(server) MiniKafka 3/3');
  });

  it('elects the preferred leaders again', async () => {
    const outcomes = (await vscode.commands.executeCommand(Commands.electPreferredLeaders, { clusterId: C, topic: TOPIC }, {})) as Array<{ partition: number; error?: string }>;
    assert.equal(outcomes.length, 2);
    assert.ok(outcomes.every((o) => !o.error || o.error === 'ELECTION_NOT_NEEDED'), JSON.stringify(outcomes));
    const { value: tree } = await eventually(
      () => snap(),
      (t) =>
        [0, 1].every((i) => {
          const m = /^leader (\d+) · replicas (\d+),/.exec(byId(t, `${C}/topics/${TOPIC}/${i}`)?.description ?? '');
          return !!m && m[1] === m[2];
        }),
      5000,
      'every partition led by its preferred replica',
    );
    assert.ok(tree);
  });

  it('pauses and resumes a broker through the commands', async () => {
    const target = api.embedded.state()!.brokers.find((b) => !b.isController)!.id;
    // Only the brokers folder: requests to a frozen broker hang until their timeout, so the topic, group,
    // transaction and ACL rows (which ask the brokers) would hold the snapshot up.
    const brokersOnly = (n: unknown) => (n as { kind: string }).kind === 'cluster' || (n as { folder?: string }).folder === 'brokers';
    try {
      const paused = (await vscode.commands.executeCommand(Commands.pauseBroker, { clusterId: C, brokerId: target }, {})) as { state: string };
      assert.equal(paused.state, 'paused');
      const { value: tree } = await eventually(
        () => api.treeSnapshot({ expand: brokersOnly }),
        (t) => byId(t, `${C}/brokers/${target}`)?.contextValue === 'broker.paused',
        2000,
        'the paused broker',
      );
      assert.match(byId(tree, `${C}/brokers/${target}`)!.tooltip!, /frozen \(SIGSTOP\)/);
    } finally {
      await vscode.commands.executeCommand(Commands.resumeBroker, { clusterId: C, brokerId: target }, {});
    }
    await eventually(
      () => snap(),
      (t) => byId(t, `${C}/brokers/${target}`)?.contextValue === 'broker.up' && [0, 1].every((i) => / · isr \d,\d,\d/.test(byId(t, `${C}/topics/${TOPIC}/${i}`)?.description ?? '')),
      20000,
      'the resumed broker back in every ISR',
    );
  });

  it('reassigns a partition to a new replica order', async () => {
    const p1 = byId(await snap(), `${C}/topics/${TOPIC}/1`)!;
    const replicas = /replicas ([\d,]+)/.exec(p1.description!)![1].split(',').map(Number);
    const reversed = [...replicas].reverse();
    const result = await vscode.commands.executeCommand(Commands.reassignPartition, { clusterId: C, topic: TOPIC, partition: 1 }, { replicas: reversed });
    assert.equal(result, 'done');
    await eventually(
      () => snap(),
      (t) => (byId(t, `${C}/topics/${TOPIC}/1`)?.description ?? '').includes(`replicas ${reversed.join(',')}`),
      5000,
      'the new replica order',
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.reassignPartition, { clusterId: C, topic: TOPIC, partition: 1 }, { replicas: [1, 9] })),
      /there is no broker 9/,
    );
  });

  it('describes the topic as kafka-topics --describe does, in an editor', async () => {
    let t0 = Date.now();
    const quiet = (await vscode.commands.executeCommand(Commands.describeTopic, { clusterId: C, topic: TOPIC }, { open: false })) as string;
    const readMs = Date.now() - t0;
    t0 = Date.now();
    const text = (await vscode.commands.executeCommand(Commands.describeTopic, { clusterId: C, topic: TOPIC }, {})) as string;
    console.log(`      describe: ${readMs} ms to read, ${Date.now() - t0} ms to read and open`);
    assert.equal(quiet, text);
    assert.match(text, new RegExp(`^Topic: ${TOPIC}\\tPartitionCount: 2\\tReplicationFactor: 3\\tConfigs: `));
    assert.match(text, new RegExp(`\\tTopic: ${TOPIC}\\tPartition: 1\\tLeader: \\d\\tReplicas: \\d,\\d,\\d\\tIsr: \\d,\\d,\\d\\n$`));
    assert.equal(vscode.window.activeTextEditor?.document.getText(), text);
    // An untitled document with text is dirty: revert so that closing it asks nothing.
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('edits a topic config; a bad value comes back in the broker\'s words', async () => {
    const after = (await vscode.commands.executeCommand(Commands.editTopicConfig, { clusterId: C, topic: TOPIC }, { set: { 'retention.ms': '3600000' } })) as Array<{ name: string; value: string; source: string }>;
    const retention = after.find((e) => e.name === 'retention.ms')!;
    assert.deepEqual([retention.value, retention.source], ['3600000', 'topic']);
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.editTopicConfig, { clusterId: C, topic: TOPIC }, { set: { 'retention.ms': 'soon' } })),
      (err: Error) => /retention\.ms/.test(err.message) && /soon/.test(err.message),
    );
  });

  it('deletes the group and the topic', async () => {
    await vscode.commands.executeCommand(Commands.deleteGroup, { clusterId: C, groupId: GROUP }, {});
    await vscode.commands.executeCommand(Commands.deleteTopic, { clusterId: C, topic: TOPIC }, {});
    const { value: tree } = await eventually(
      () => snap([], []),
      (t) => !byId(t, `${C}/topics/${TOPIC}`) && !byId(t, `${C}/groups/${GROUP}`),
      10000,
      'the topic and group to disappear',
    );
    assert.equal(byId(tree, `${C}/topics`)!.children![0].label, 'No topics — create one');
    const admin = new ClusterAdmin({ bootstrapServers: bootstrap });
    await admin.connect();
    try {
      assert.ok(!(await admin.listTopics()).some((t) => t.name === TOPIC));
    } finally {
      await admin.disconnect();
    }
  });

  it('restarts the mini-cluster through the command: same data folder, same topics, brokers up again', async () => {
    const topic = 'survives-restart';
    await vscode.commands.executeCommand(Commands.createTopic, { clusterId: C, topic }, { partitions: 1, replicationFactor: 3 });
    const before = api.embedded.dir();
    const res = (await vscode.commands.executeCommand(Commands.restartCluster, { clusterId: C }, {})) as { bootstrap: string; dir: string };
    assert.equal(res.dir, before);
    assert.equal(api.embedded.status(), 'running');
    const { value: tree } = await eventually(
      () => snap([`${C}/topics`]),
      (t) => /3\/3 up/.test(byId(t, `${C}/brokers`)?.description ?? '') && !!byId(t, `${C}/topics/${topic}`),
      30000,
      'three brokers up and the topic back after the restart',
    );
    assert.ok(byId(tree, `${C}/topics/${topic}`));
    await vscode.commands.executeCommand(Commands.deleteTopic, { clusterId: C, topic }, {});
  });

  it('chooses the data folder: an absolute path goes into the setting, a relative one is refused', async () => {
    const setting = () => vscode.workspace.getConfiguration('minikafka').get<string>('embedded.dataDir');
    const previous = vscode.workspace.getConfiguration('minikafka').inspect<string>('embedded.dataDir');
    const folder = join(tmpdir(), 'minikafka-chosen-data');
    try {
      assert.equal(await vscode.commands.executeCommand(Commands.chooseDataFolder, undefined, { folder }), folder);
      assert.equal(setting(), folder);
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand(Commands.chooseDataFolder, undefined, { folder: 'relative/dir' })), /must be an absolute path, got 'relative\/dir'/);
      assert.equal(setting(), folder, 'a refused folder changes nothing');
    } finally {
      const cfg = vscode.workspace.getConfiguration('minikafka');
      await cfg.update('embedded.dataDir', previous?.globalValue, vscode.ConfigurationTarget.Global);
      await cfg.update('embedded.dataDir', previous?.workspaceValue, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('stops the mini-cluster through the command', async () => {
    await vscode.commands.executeCommand(Commands.stopCluster, { clusterId: C }, {});
    assert.equal(api.embedded.status(), 'stopped');
    const tree: TreeSnapshotNode[] = await snap([]);
    const cluster = byId(tree, C)!;
    assert.equal(cluster.contextValue, 'cluster.embedded.stopped');
    assert.equal(cluster.children![0].label, 'Not running — click to start');
    assert.equal(api.statusBar(), undefined);
  });
});
