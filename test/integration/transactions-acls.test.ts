// Issue 11 and 13 in the explorer and the tail panel, inside a real VS Code: a kafkajs transactional producer holds
// a transaction open on the embedded mini-cluster; the Transactions folder lists it (embedded, and through a saved
// connection to the same brokers: connect mode), the partition says why its LSO is behind its HW, each broker shows
// its log dir with partition sizes, the ACLs folder says the cluster has no authorizer; a `minikafka start` with an
// authorizer, added as a saved connection, gets an ACL added through the command and removed through its row; the
// tail panel shows the markers under read_committed and the open/aborted records under read_uncommitted.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import * as vscode from 'vscode';
import { Commands } from '../../src/extension/constants';
import type { TailPanel } from '../../src/extension/panels/tailPanel';
import type { MiniKafkaTestApi } from '../../src/extension/testApi';
import { byId, eventually, EXTENSION_ID, testApi } from './helpers';

const C = 'embedded';
const TOPIC = 'it-txn';

describe('transactions, ACLs and log dirs in the explorer; markers in the tail panel', function () {
  this.timeout(150_000);
  let api: MiniKafkaTestApi;
  let bootstrap: string;
  let producer: Producer | undefined;
  let open: Awaited<ReturnType<Producer['transaction']>>;
  let secured: { child: ChildProcess; dir: string; bootstrap: string } | undefined;
  const panels: TailPanel[] = [];
  const connections: string[] = [];

  // Expand clusters, folders, the topic, broker 1 and its log dir; nothing else (cheap snapshots).
  const snap = () =>
    api.treeSnapshot({
      expand: ((n: { kind: string; topic?: string; brokerId?: number }) =>
        n.kind === 'cluster' || n.kind === 'folder' || n.kind === 'logDir' || (n.kind === 'topic' && n.topic === TOPIC) || (n.kind === 'broker' && n.brokerId === 1)) as (n: unknown) => boolean,
    });

  before(async () => {
    api = await testApi();
    const started = (await vscode.commands.executeCommand(Commands.startCluster, undefined, {})) as { bootstrap: string };
    bootstrap = started.bootstrap;
    await vscode.commands.executeCommand(Commands.createTopic, { clusterId: C, topic: TOPIC }, { partitions: 1, replicationFactor: 3 });
    const kafka = new Kafka({ clientId: 'it-txn', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
    producer = kafka.producer({ transactionalId: 'it-txn-id', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 120_000 });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: TOPIC, messages: [{ key: 'k', value: 'committed-1' }] }); // 0
    await committed.commit(); // marker 1
    const aborted = await producer.transaction();
    await aborted.send({ topic: TOPIC, messages: [{ key: 'k', value: 'aborted-1' }] }); // 2
    await aborted.abort(); // marker 3
    open = await producer.transaction();
    await open.send({ topic: TOPIC, messages: [{ key: 'k', value: 'open-1' }, { key: 'k', value: 'open-2' }] }); // 4, 5
  });

  after(async () => {
    for (const p of panels) p.test.panel.dispose();
    await producer?.disconnect().catch(() => undefined);
    for (const id of connections) await vscode.commands.executeCommand(Commands.removeConnection, { clusterId: id }, {}).then(undefined, () => undefined);
    await stopCluster(secured);
    await vscode.commands.executeCommand(Commands.stopCluster, { clusterId: C }, {}).then(undefined, () => undefined);
  });

  it('lists the open transaction and explains the partition whose LSO is behind its HW', async () => {
    const { value: tree } = await eventually(
      snap,
      (t) => byId(t, `${C}/transactions`)?.children?.some((c) => c.label === 'it-txn-id') === true && /LSO/.test(byId(t, `${C}/topics/${TOPIC}/0`)?.description ?? ''),
      15_000,
      'the open transaction and the held-back LSO',
    );
    const txn = byId(tree, `${C}/transactions`)!.children!.find((c) => c.label === 'it-txn-id')!;
    assert.equal(txn.contextValue, 'transaction');
    assert.match(txn.description!, /^Ongoing · pid \d+ epoch \d+ · (\d+ ms|\d+ s) · it-txn-0$/);
    assert.match(txn.tooltip!, /transaction.timeout.ms 120000/);
    const p0 = byId(tree, `${C}/topics/${TOPIC}/0`)!;
    assert.match(p0.description!, /offsets 0–6 · LSO 4 < HW 6$/);
    assert.match(p0.tooltip!, /LSO 4 < HW 6: open transaction of it-txn-id \(producer \d+, epoch \d+\) since \d{4}-\d\d-\d\dT[\d:.]+Z, from offset 4/);
    assert.equal(p0.iconColor, 'list.warningForeground');
  });

  it('shows each broker\'s log dir with partition sizes, and says the embedded cluster has no authorizer', async () => {
    const { value: tree } = await eventually(snap, (t) => (byId(t, `${C}/brokers/1`)?.children?.[0]?.children?.length ?? 0) > 0, 10_000, 'broker 1\'s log dir');
    const dir = byId(tree, `${C}/brokers/1`)!.children![0];
    assert.equal(dir.contextValue, 'logDir');
    assert.ok(dir.tooltip!.startsWith(`Log directory ${api.embedded.dir()}`), `${dir.tooltip} names a dir under ${api.embedded.dir()}`);
    assert.match(dir.label, /^(\/|…\/)/);
    const replica = dir.children!.find((c) => c.label === `${TOPIC}-0`);
    assert.ok(replica, JSON.stringify(dir.children!.map((c) => c.label)));
    assert.match(replica.description!, /^\d+(\.\d)? (B|KiB)/);
    assert.notEqual(replica.description, '0 B');
    const acls = byId(tree, `${C}/acls`)!;
    assert.deepEqual(acls.children!.map((c) => [c.label, c.contextValue]), [['ACLs are off: the cluster has no authorizer', 'placeholder']]);
  });

  it('connect mode: a saved connection to the same brokers lists the same open transaction', async () => {
    const ref = (await vscode.commands.executeCommand(Commands.addConnection, { name: 'Txn view', bootstrapServers: bootstrap }, {})) as { clusterId: string };
    connections.push(ref.clusterId);
    const { value: tree } = await eventually(snap, (t) => byId(t, `${ref.clusterId}/transactions`)?.children?.some((c) => c.label === 'it-txn-id') === true, 15_000, 'the transaction through the saved connection');
    assert.match(byId(tree, `${ref.clusterId}/topics/${TOPIC}/0`)!.description!, /LSO 4 < HW 6$/);
  });

  it('tail, read_committed: the committed record and both markers; nothing aborted, nothing open', async () => {
    const tail = (await vscode.commands.executeCommand('minikafka.tailTopic', { clusterId: C, topic: TOPIC }, { start: { kind: 'earliest' } })) as TailPanel;
    panels.push(tail);
    await tail.test.whenReady();
    await eventually(() => tail.test.probe(), (x) => x.rowCount >= 3, 15_000, 'three rows');
    await new Promise((r) => setTimeout(r, 700));
    const probe = await tail.test.probe();
    assert.deepEqual(
      probe.rows.map((r) => [r[1], r[4], r[6]]),
      [
        ['0', 'committed-1', 'committed'],
        ['1', 'COMMIT marker', '◆ COMMIT'],
        ['3', 'ABORT marker', '◆ ABORT'],
      ],
    );
    assert.equal(probe.info.isolation, 'read_committed');
    assert.equal(probe.info.markerRows, 2);
  });

  it('tail, read_uncommitted: every record, the aborted one struck out, the open ones marked until their commit', async () => {
    const tail = (await vscode.commands.executeCommand('minikafka.tailTopic', { clusterId: C, topic: TOPIC }, { start: { kind: 'earliest' }, isolation: 'read_uncommitted' })) as TailPanel;
    panels.push(tail);
    await tail.test.whenReady();
    const { value: probe } = await eventually(() => tail.test.probe(), (x) => x.rowCount >= 6, 15_000, 'six rows');
    assert.deepEqual(
      probe.rows.map((r) => [r[1], r[6]]),
      [
        ['0', 'committed'],
        ['1', '◆ COMMIT'],
        ['2', 'aborted'],
        ['3', '◆ ABORT'],
        ['4', 'open'],
        ['5', 'open'],
      ],
    );
    assert.deepEqual([probe.info.isolation, probe.info.markerRows, probe.info.openRows, probe.info.abortedRows], ['read_uncommitted', 2, 2, 1]);
    await open.commit(); // marker 6
    const { value: settled } = await eventually(() => tail.test.probe(), (x) => x.rowCount >= 7 && x.info.openRows === 0, 15_000, 'the open rows settled by the marker');
    assert.deepEqual(
      settled.rows.slice(4).map((r) => [r[1], r[6]]),
      [
        ['4', 'committed'],
        ['5', 'committed'],
        ['6', '◆ COMMIT'],
      ],
    );
  });

  it('with the transaction committed, the partition\'s LSO reaches its HW and the folder shows no open transaction', async () => {
    const { value: tree } = await eventually(
      snap,
      (t) => !/LSO/.test(byId(t, `${C}/topics/${TOPIC}/0`)?.description ?? 'LSO') && byId(t, `${C}/transactions`)?.children?.[0]?.contextValue === 'placeholder',
      15_000,
      'no open transaction',
    );
    assert.match(byId(tree, `${C}/topics/${TOPIC}/0`)!.description!, /offsets 0–7$/);
    assert.match(byId(tree, `${C}/transactions`)!.children![0].label, /^No open transactions \(\d+ transactional ids? known\)$/);
  });

  it('ACLs on a cluster with an authorizer: added through the command (validated), listed, removed through the row', async () => {
    secured = await startCluster(['--brokers', '1', '--port', '0', '--config', 'authorizer.class.name=StandardAuthorizer', '--config', 'allow.everyone.if.no.acl.found=true']);
    const ref = (await vscode.commands.executeCommand(Commands.addConnection, { name: 'With ACLs', bootstrapServers: secured.bootstrap }, {})) as { clusterId: string };
    connections.push(ref.clusterId);
    const aclsOf = async () => byId(await snap(), `${ref.clusterId}/acls`)?.children ?? [];
    await eventually(aclsOf, (c) => c[0]?.label === 'No ACLs — add one', 15_000, 'an empty ACLs folder');
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.addAcl, { clusterId: ref.clusterId }, { resourceType: 'GROUP', resourceName: 'billing', principal: 'User:alice', operation: 'WRITE' })),
      /WRITE does not apply to a GROUP/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.addAcl, { clusterId: ref.clusterId }, { resourceType: 'TOPIC', resourceName: 'orders', principal: 'alice', operation: 'READ' })),
      /a principal is Type:name/,
    );
    await vscode.commands.executeCommand(Commands.addAcl, { clusterId: ref.clusterId }, { resourceType: 'TOPIC', resourceName: 'orders', principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW' });
    await vscode.commands.executeCommand(Commands.addAcl, { clusterId: ref.clusterId }, { resourceType: 'TOPIC', resourceName: 'ord', patternType: 'PREFIXED', principal: 'User:bob', host: '10.0.0.1', operation: 'WRITE', permission: 'DENY' });
    const { value: rows } = await eventually(aclsOf, (c) => c.length === 2 && c[0].contextValue === 'acl', 15_000, 'two ACL rows');
    assert.deepEqual(
      rows.map((r) => [r.label, r.description]),
      [
        ['User:bob DENY WRITE', 'TOPIC ord (prefixed) · host 10.0.0.1'],
        ['User:alice ALLOW READ', 'TOPIC orders · host *'],
      ],
    );
    // From the context menu VS Code passes the row's node: the same shape the tree built.
    const node = await api.treeNode((n) => n.kind === 'acl' && n.clusterId === ref.clusterId && n.acl.principal === 'User:bob');
    assert.ok(node, 'the ACL row of User:bob');
    assert.equal(await vscode.commands.executeCommand(Commands.removeAcl, node, {}), 1);
    const { value: left } = await eventually(aclsOf, (c) => c.length === 1, 15_000, 'one ACL row');
    assert.equal(left[0].label, 'User:alice ALLOW READ');
  });
});

async function startCluster(args: string[], timeoutMs = 60_000): Promise<{ child: ChildProcess; dir: string; bootstrap: string }> {
  const cli = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
  const base = process.env.MINIKAFKA_TEST_DIR ? dirname(process.env.MINIKAFKA_TEST_DIR) : tmpdir();
  const dir = mkdtempSync(join(base, 'acl-cluster-'));
  const child = spawn(process.execPath, [cli, 'start', '--dir', dir, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`minikafka start did not print bootstrap:\n${out}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`minikafka start exited (${code}):\n${out}`)));
    child.stdout!.on('data', () => {
      const b = /^bootstrap: (\S+)$/m.exec(out)?.[1];
      if (b) {
        clearTimeout(timer);
        resolve(b);
      }
    });
  }).catch(async (err) => {
    await stopCluster({ child, dir });
    throw err;
  });
  return { child, dir, bootstrap };
}

async function stopCluster(c: { child: ChildProcess; dir: string } | undefined): Promise<void> {
  if (!c?.child.pid) return;
  const pid = c.child.pid;
  const exited = c.child.exitCode !== null || c.child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.child.once('exit', () => r()));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left in the group
  }
  rmSync(c.dir, { recursive: true, force: true, maxRetries: 3 });
}
