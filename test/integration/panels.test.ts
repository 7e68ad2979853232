// The webview panels inside a real VS Code, against the embedded mini-cluster (started through the extension's own
// command). Panels are opened through their commands with TopicRef/GroupRef arguments; the commands return the
// panel objects, whose `test` hooks drive the host side exactly as the page does (the same request handlers; only
// postMessage is skipped) and ask the real page, rendered in the workbench's webview, what it shows (`probe`).
//
// Types only from src/extension/panels: the extension runs from its bundle (dist/extension.js), so importing the
// modules here would load a second copy. The message descriptors are plain { kind, method } objects, the same in
// both copies.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ClusterAdmin } from '../../src/client/admin';
import { OutgoingRecord, RecordProducer } from '../../src/client/producer';
import type { GroupPanel, ProducerPanel, TailPanel } from '../../src/extension/panels';
import { JoinGroupRequest, RefreshGroupRequest } from '../../src/shared/groupProtocol';
import { ProduceForm, ProduceRequest, ProducerInitRequest, ProduceSummary } from '../../src/shared/producerProtocol';
import { TailExportRequest, TailPauseRequest } from '../../src/shared/tailProtocol';

const EXTENSION_ID = 'minikafka.minikafka';
const CLUSTER = 'embedded';
const TOPIC = `panels-${Date.now().toString(36)}`;
const GROUP = `panels-group-${Date.now().toString(36)}`;
/** A topic of its own for the start-time and chosen-partition tails (exact record counts). */
const TAIL_TOPIC = `tail-${Date.now().toString(36)}`;
const XSS = '<img src=x onerror=alert(1)>';

function form(patch: Partial<ProduceForm>): ProduceForm {
  return { key: '', value: '', valueFormat: 'text', headers: [], partition: 'auto', acks: 'all', compression: 'none', count: 1, ...patch };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let runId = 1;
async function produce(panel: ProducerPanel, f: ProduceForm): Promise<ProduceSummary> {
  return panel.test.invoke(ProduceRequest, { runId: runId++, form: f });
}

describe('panels', function () {
  this.timeout(180_000);
  let producer: ProducerPanel;
  let tail: TailPanel;

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    await ext.activate();
    await vscode.commands.executeCommand('minikafka.startCluster', undefined, {});
    await vscode.commands.executeCommand('minikafka.createTopic', { clusterId: CLUSTER, topic: TOPIC }, { partitions: 3, replicationFactor: 3 });
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens the producer panel on a topic and sends a JSON record with key, headers, partition, acks and gzip', async () => {
    producer = (await vscode.commands.executeCommand('minikafka.openProducer', { clusterId: CLUSTER, topic: TOPIC })) as ProducerPanel;
    assert.ok(producer, 'the command returned no panel');
    await producer.test.whenReady();
    const init = await producer.test.invoke(ProducerInitRequest, undefined);
    assert.deepEqual(init.partitions, [0, 1, 2]);
    assert.equal(init.compressions.find((c) => c.name === 'zstd')?.available, false, 'zstd has no encoder here');
    const summary = await produce(producer, form({ key: 'order-1', value: '{"id": 1, "total": 9.5}', valueFormat: 'json', headers: [{ name: 'trace', value: 'abc' }], partition: 1, compression: 'gzip' }));
    assert.equal(summary.sent, 1, summary.error);
    assert.deepEqual(summary.results, [{ index: 0, partition: 1, offset: '0' }]);
    assert.deepEqual(summary.ranges, [{ partition: 1, first: '0', last: '0' }]);
  });

  it('refuses a JSON value that does not parse, before sending anything', async () => {
    await assert.rejects(produce(producer, form({ value: '{"id": ', valueFormat: 'json' })), /not JSON/);
  });

  it('tails the topic from an offset and shows the produced record in the page', async () => {
    tail = (await vscode.commands.executeCommand('minikafka.tailTopic', { clusterId: CLUSTER, topic: TOPIC, partition: 1 }, { start: { kind: 'offset', offset: '0' }, column: vscode.ViewColumn.Beside })) as TailPanel;
    assert.ok(tail, 'the command returned no panel');
    await tail.test.whenReady();
    const probe = await waitFor('the record in the tail table', async () => {
      const p = await tail.test.probe();
      return p.rowCount > 0 && p.rows.some((r) => r.includes('order-1')) ? p : undefined;
    });
    const row = probe.rows.find((r) => r.includes('order-1')) as string[];
    assert.deepEqual(row.slice(0, 2), ['1', '0']);
    assert.equal(row[4], '{"id": 1, "total": 9.5}');
    assert.equal(row[5], 'trace=abc');
    assert.deepEqual(tail.pipeline.currentConfig.partitions, [1]);
  });

  it('shows live records as they are produced, and a value with HTML as text (no element created)', async () => {
    const scripts = (await tail.test.probe(['script'])).elementCounts.script;
    const summary = await produce(producer, form({ key: 'xss', value: XSS, partition: 1 }));
    assert.equal(summary.sent, 1, summary.error);
    const probe = await waitFor('the HTML value in the tail table', async () => {
      const p = await tail.test.probe(['img', 'script', 'iframe']);
      return p.rows.some((r) => r[4] === XSS) ? p : undefined;
    });
    assert.equal(probe.elementCounts.img, 0, 'an <img> element was created from record data');
    assert.equal(probe.elementCounts.iframe, 0);
    assert.equal(probe.elementCounts.script, scripts, 'a <script> element was created from record data');
    assert.deepEqual(tail.test.cspViolations, [], 'the page reported content security policy violations');
  });

  it('pauses and resumes without losing records', async () => {
    const received = tail.pipeline.status().received;
    await tail.test.invoke(TailPauseRequest, { paused: true });
    assert.equal(tail.pipeline.status().state, 'paused');
    const summary = await produce(producer, form({ value: 'while-paused-{{i}}', partition: 1, count: 5 }));
    assert.equal(summary.sent, 5);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!(await tail.test.probe()).rows.some((r) => r[4]?.startsWith('while-paused')), 'records arrived while paused');
    await tail.test.invoke(TailPauseRequest, { paused: false });
    await waitFor('the records produced while paused', async () => (await tail.test.probe()).info.received === received + 5);
  });

  it('keeps its rows when hidden and shown again (the page is rebuilt from the host ring)', async () => {
    const before = (await tail.test.probe()).rowCount;
    // Another editor in the same group hides the panel; its page is destroyed (no retained context).
    const doc = await vscode.workspace.openTextDocument({ content: 'hide the tail' });
    await vscode.window.showTextDocument(doc, { viewColumn: tail.test.panel.viewColumn, preview: false });
    await waitFor('the panel to be hidden', () => !tail.test.panel.visible, 10_000);
    tail.reveal();
    await tail.test.whenReady();
    const after = await waitFor('the rows back in the page', async () => {
      const p = await tail.test.probe();
      return p.rowCount === before ? p : undefined;
    });
    assert.ok(after.rows.some((r) => r[4] === XSS));
  });

  it('exports what is shown as CSV and JSON', async () => {
    const dir = vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file('/tmp'), 'exports');
    await vscode.workspace.fs.createDirectory(dir);
    tail.exportTo = vscode.Uri.joinPath(dir, 'tail.csv');
    const all = await tail.test.invoke(TailExportRequest, { format: 'csv', filter: '' });
    assert.equal(all.count, 7, 'order-1, the HTML value and five records produced while paused');
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(tail.exportTo));
    assert.match(text, /^partition,offset,timestamp,time,key,value,headers\r\n/);
    assert.ok(text.includes(`1,0,`), text.slice(0, 300));
    tail.exportTo = vscode.Uri.joinPath(dir, 'tail.json');
    const json = await tail.test.invoke(TailExportRequest, { format: 'json', filter: 'order-1' });
    assert.equal(json.count, 1);
    const parsed = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(tail.exportTo)));
    assert.equal(parsed[0].value, '{"id": 1, "total": 9.5}');
    assert.deepEqual(parsed[0].headers, [{ name: 'trace', value: 'abc' }]);
  });

  it('sends N records from a template with progress, each with its own value (the live tail keeps up)', async () => {
    const before = producer.test.notifications.length;
    const seen = tail.pipeline.status().received;
    producer.reveal();
    await producer.test.whenReady();
    const summary = await produce(producer, form({ key: 'k-{{i}}', value: '{"n": {{i}}, "id": "{{uuid}}"}', valueFormat: 'json', count: 3000, acks: '1', compression: 'snappy' }));
    assert.equal(summary.sent, 3000, summary.error);
    assert.equal(summary.failed, 0);
    const offsets = summary.ranges.reduce((n, r) => n + Number(r.last) - Number(r.first) + 1, 0);
    assert.equal(offsets, 3000, `offset ranges ${JSON.stringify(summary.ranges)}`);
    const progress = producer.test.notifications.slice(before).filter((n) => n.method === 'producer/progress');
    assert.ok(progress.length >= 2, `expected progress notifications, got ${progress.length}`);
    const toPartition1 = summary.ranges.find((r) => r.partition === 1);
    const expected = toPartition1 ? Number(toPartition1.last) - Number(toPartition1.first) + 1 : 0;
    await waitFor('the tail of partition 1 to receive its share', () => tail.pipeline.status().received === seen + expected);
  });

  it('closes its consumer when the panel is closed', async () => {
    const pipeline = tail.pipeline;
    tail.test.panel.dispose();
    await waitFor('the panel to be disposed', () => tail.isDisposed);
    // The consumer is stopped (its fetch loop ended and its connections closed) once the state says so.
    await waitFor('the tail consumer to stop', () => pipeline.isDisposed && pipeline.status().state === 'stopped', 15_000);
  });

  it('tails from a time: exactly the records at or after it, then live records of every partition', async () => {
    await vscode.commands.executeCommand('minikafka.createTopic', { clusterId: CLUSTER, topic: TAIL_TOPIC }, { partitions: 3, replicationFactor: 3 });
    // Two records on each partition, stamped by the producer with the current time.
    await send(TAIL_TOPIC, [0, 1, 2].flatMap((p) => [0, 1].map((i) => ({ key: `before-${p}-${i}`, value: `before-${p}-${i}`, partition: p }))));
    await new Promise((r) => setTimeout(r, 20));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    // The edges: one millisecond before the time (P1's last record, so P1 has nothing at or after it) is left
    // out; exactly the time (P0's first later record) is in. The rest are stamped now, after the time.
    await send(TAIL_TOPIC, [{ key: 'old-1', value: 'old-1', partition: 1, timestamp: from - 1 }]);
    await send(TAIL_TOPIC, [
      { key: 'after-0-0', value: 'after-0-0', partition: 0, timestamp: from },
      { key: 'after-0-1', value: 'after-0-1', partition: 0 },
      { key: 'after-2-0', value: 'after-2-0', partition: 2 },
      { key: 'after-2-1', value: 'after-2-1', partition: 2 },
    ]);

    const tailFrom = (await vscode.commands.executeCommand('minikafka.tailTopic', { clusterId: CLUSTER, topic: TAIL_TOPIC }, { start: { kind: 'timestamp', timestamp: from } })) as TailPanel;
    assert.ok(tailFrom, 'the command returned no panel');
    try {
      await tailFrom.test.whenReady();
      const expected = [
        ['0', '2', 'after-0-0'],
        ['0', '3', 'after-0-1'],
        ['2', '2', 'after-2-0'],
        ['2', '3', 'after-2-1'],
      ];
      const probe = await waitFor('the four records at or after the time in the page', async () => {
        const p = await tailFrom.test.probe();
        return p.rowCount === expected.length ? p : undefined;
      });
      assert.deepEqual(sortRows(probe.rows.map((r) => [r[0], r[1], r[4]])), expected);
      assert.equal(probe.info.started, `from ${new Date(from).toISOString()} · all partitions · no group`);
      // Nothing older trickles in later (a start resolved per partition, not one offset for all).
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(tailFrom.pipeline.status().received, expected.length);
      assert.equal((await tailFrom.test.probe()).rowCount, expected.length);

      // P1 had nothing at or after the time, so it started at its end: a new record there shows, at offset 3.
      await send(TAIL_TOPIC, [{ key: 'live-1', value: 'live-1', partition: 1 }]);
      const live = await waitFor('the live record of partition 1', async () => {
        const p = await tailFrom.test.probe();
        return p.rows.some((r) => r[4] === 'live-1') ? p : undefined;
      });
      assert.deepEqual(live.rows.find((r) => r[4] === 'live-1')!.slice(0, 2), ['1', '3']);
      assert.equal(live.rowCount, expected.length + 1);
    } finally {
      tailFrom.test.panel.dispose();
    }
  });

  it('tails chosen partitions only: two of three, old and live records', async () => {
    const tailSome = (await vscode.commands.executeCommand('minikafka.tailTopic', { clusterId: CLUSTER, topic: TAIL_TOPIC }, { start: { kind: 'earliest' }, partitions: [0, 2] })) as TailPanel;
    assert.ok(tailSome, 'the command returned no panel');
    try {
      await tailSome.test.whenReady();
      assert.deepEqual(tailSome.pipeline.currentConfig.partitions, [0, 2]);
      // Partitions 0 and 2 from their start: two records before the time and two after on each; none of P1's
      // four (before-1-0, before-1-1, old-1, live-1).
      const expected = [
        ['0', '0', 'before-0-0'],
        ['0', '1', 'before-0-1'],
        ['0', '2', 'after-0-0'],
        ['0', '3', 'after-0-1'],
        ['2', '0', 'before-2-0'],
        ['2', '1', 'before-2-1'],
        ['2', '2', 'after-2-0'],
        ['2', '3', 'after-2-1'],
      ];
      const probe = await waitFor('the records of partitions 0 and 2 in the page', async () => {
        const p = await tailSome.test.probe();
        return p.rowCount === expected.length ? p : undefined;
      });
      assert.deepEqual(sortRows(probe.rows.map((r) => [r[0], r[1], r[4]])), expected);
      assert.equal(probe.info.started, 'from the beginning · partitions 0, 2 · no group');

      // Live: one record to each partition; the one to partition 1 never shows.
      await send(TAIL_TOPIC, [0, 1, 2].map((p) => ({ key: `live2-${p}`, value: `live2-${p}`, partition: p })));
      await waitFor('the live records of partitions 0 and 2', async () => (await tailSome.test.probe()).rowCount === expected.length + 2);
      await new Promise((r) => setTimeout(r, 1500));
      const after = await tailSome.test.probe();
      assert.equal(after.rowCount, expected.length + 2);
      assert.equal(tailSome.pipeline.status().received, expected.length + 2);
      assert.deepEqual(sortRows(after.rows.filter((r) => r[4]?.startsWith('live2-')).map((r) => [r[0], r[1], r[4]])), [
        ['0', '4', 'live2-0'],
        ['2', '4', 'live2-2'],
      ]);
      assert.ok(after.rows.every((r) => r[0] === '0' || r[0] === '2'), `a row of another partition: ${JSON.stringify(after.rows)}`);
    } finally {
      tailSome.test.panel.dispose();
    }
  });

  it('watches a group: lag per partition, then a member of the panel consumes and the lag falls to zero', async () => {
    const group = (await vscode.commands.executeCommand('minikafka.tailGroup', { clusterId: CLUSTER, groupId: GROUP }, { pollIntervalMs: 500 })) as GroupPanel;
    assert.ok(group, 'the command returned no panel');
    await group.test.whenReady();
    await group.test.invoke(RefreshGroupRequest, undefined);
    assert.equal(group.monitor.snapshot?.state, 'Dead', 'the group does not exist yet');
    // Offsets committed at the start of every partition (as kafka-consumer-groups.sh --reset-offsets would): lag = everything.
    await withAdmin((admin) => admin.resetGroupOffsets(GROUP, TOPIC, 'earliest'));
    await group.test.invoke(RefreshGroupRequest, undefined);
    assert.equal(group.monitor.snapshot?.state, 'Empty');
    assert.equal(group.monitor.snapshot?.totalLag, String(1 + 1 + 5 + 3000));
    const member = await group.test.invoke(JoinGroupRequest, { topic: TOPIC, from: 'earliest' });
    assert.equal(member.state, 'consuming');
    const total = 1 + 1 + 5 + 3000;
    await waitFor(
      'the panel member to consume every record and commit',
      async () => {
        await group.test.invoke(RefreshGroupRequest, undefined);
        const s = group.monitor.snapshot;
        return s && s.partitions.length === 3 && s.partitions.every((p) => p.lag === '0') && group.monitor.ownMembers()[0]?.consumed === total;
      },
      60_000,
    );
    const probe = await waitFor('the page to show lag 0', async () => {
      const p = await group.test.probe();
      return p.info.totalLag === '0' && p.rowCount === 3 ? p : undefined;
    });
    assert.ok(Number(probe.info.samples) >= 2, 'lag samples for the chart');
    assert.ok(Number(probe.info.chartLines) >= 1, 'the chart draws the lag');
    assert.match(String(probe.info.timelineText), /joined/);
    assert.equal(group.monitor.snapshot?.members.length, 1);
    assert.equal(group.monitor.snapshot?.members[0].own, true);
    assert.ok(group.monitor.history.some((s) => s.total > 0), 'the lag was above zero before it fell');
    assert.equal(group.monitor.history[group.monitor.history.length - 1].total, 0);

    // A second member of the panel: the group splits the three partitions between the two (queue semantics).
    await group.test.invoke(JoinGroupRequest, { topic: TOPIC, from: 'earliest' });
    await waitFor(
      'two members sharing the partitions',
      async () => {
        await group.test.invoke(RefreshGroupRequest, undefined);
        const s = group.monitor.snapshot;
        if (!s || s.state !== 'Stable' || s.members.length !== 2) return false;
        const assigned = s.members.map((m) => m.assignment.flatMap((a) => a.partitions));
        return assigned.every((a) => a.length > 0) && assigned.flat().sort().join(',') === '0,1,2';
      },
      60_000,
    );
    assert.ok(group.monitor.timeline.some((e) => e.kind === 'rebalance'), 'a rebalance in the timeline');

    // Closing the panel closes its members: they leave the group.
    group.test.panel.dispose();
    await waitFor('the members to leave', async () => (await withAdmin((admin) => admin.describeGroup(GROUP))).members.length === 0, 30_000);
  });
  it("shows a leader change on one of the group's partitions in the timeline (and only the group's partitions)", async () => {
    const group = (await vscode.commands.executeCommand('minikafka.tailGroup', { clusterId: CLUSTER, groupId: GROUP }, { pollIntervalMs: 500 })) as GroupPanel;
    assert.ok(group, 'the command returned no panel');
    let killed: number | undefined;
    try {
      await group.test.whenReady();
      // The panel files cluster events only for partitions it knows are the group's (its committed offsets).
      const before = await waitFor('the page to show the group and its three partitions', async () => {
        await group.test.invoke(RefreshGroupRequest, undefined);
        const p = await group.test.probe();
        return p.rowCount === 3 && p.rows.length === 3 ? p : undefined;
      });
      const leaderShown = before.rows.find((r) => r[1] === '0')![2];
      killed = ((await vscode.commands.executeCommand('minikafka.killPartitionLeader', { clusterId: CLUSTER, topic: TOPIC, partition: 0 }, {})) as { brokerId: number }).brokerId;
      assert.equal(leaderShown, String(killed), 'the page showed the leader that was killed');

      const entry = new RegExp(`^leader: ${TOPIC}-0: leader ${killed} -> (\\d+) \\(epoch \\d+\\)$`, 'm');
      const probe = await waitFor('the leader change of partition 0 in the page timeline', async () => {
        const p = await group.test.probe();
        return entry.test(String(p.info.timelineText)) ? p : undefined;
      }, 15_000);
      const text = String(probe.info.timelineText);
      const newLeader = entry.exec(text)![1];
      assert.notEqual(newLeader, String(killed));
      // The same event reached the host's timeline as a leader entry, and the ISR shrink of P0 came with it.
      assert.ok(group.monitor.timeline.some((e) => e.kind === 'leader' && e.text.startsWith(`${TOPIC}-0: leader ${killed} -> ${newLeader}`)));
      assert.match(text, new RegExp(`^isr: ${TOPIC}-0: ISR \\[[\\d,]+\\] -> \\[[\\d,]+\\]$`, 'm'));
      // Partitions of other topics led by the same broker (the tail topic has three, RF 3) are not the group's.
      assert.ok(!text.includes(TAIL_TOPIC), `another topic's events in the group timeline:\n${text}`);
      // The partition table follows on its next poll: P0's leader column names the new leader.
      await waitFor('the new leader of P0 in the page table', async () => (await group.test.probe()).rows.find((r) => r[1] === '0')?.[2] === newLeader, 15_000);
    } finally {
      group.test.panel.dispose();
      if (killed !== undefined) {
        await vscode.commands.executeCommand('minikafka.restartBroker', { clusterId: CLUSTER, brokerId: killed }, {});
        await waitFor(
          'the restarted broker back in every ISR',
          () => withAdmin(async (admin) => (await admin.describeTopics([TOPIC]))[0].partitions.every((p) => p.isr.length === 3)),
          30_000,
        );
      }
    }
  });
});

/** An admin client of our own on the embedded cluster (the panels' clients are theirs). */
async function withAdmin<T>(fn: (admin: ClusterAdmin) => Promise<T>): Promise<T> {
  const bootstrap = (await vscode.commands.executeCommand('minikafka.copyBootstrapServers', { clusterId: CLUSTER }, {})) as string;
  const admin = new ClusterAdmin({ bootstrapServers: bootstrap.split(',') });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Sends records with a producer of our own (acks=all), so a tail never sees a record that is not fully written. */
async function send(topic: string, records: OutgoingRecord[]): Promise<void> {
  const bootstrap = (await vscode.commands.executeCommand('minikafka.copyBootstrapServers', { clusterId: CLUSTER }, {})) as string;
  const producer = new RecordProducer({ bootstrapServers: bootstrap.split(',') });
  await producer.connect();
  try {
    await producer.send(topic, records);
  } finally {
    await producer.disconnect();
  }
}

/** Rows as [partition, offset, ...] sorted by partition then offset (numerically), for order-free comparison. */
function sortRows(rows: string[][]): string[][] {
  return [...rows].sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1]));
}
