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
import type { GroupPanel, ProducerPanel, TailPanel } from '../../src/extension/panels';
import { JoinGroupRequest, RefreshGroupRequest } from '../../src/shared/groupProtocol';
import { ProduceForm, ProduceRequest, ProducerInitRequest, ProduceSummary } from '../../src/shared/producerProtocol';
import { TailExportRequest, TailPauseRequest } from '../../src/shared/tailProtocol';

const EXTENSION_ID = 'minikafka.minikafka';
const CLUSTER = 'embedded';
const TOPIC = `panels-${Date.now().toString(36)}`;
const GROUP = `panels-group-${Date.now().toString(36)}`;
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
