// Saved connections inside a real VS Code: added through the command with arguments (tested first), shown as
// external clusters in the explorer, unreachable ones as an error row in words, passwords kept out of settings.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Commands } from '../../src/extension/constants';
import type { MiniKafkaTestApi } from '../../src/extension/testApi';
import { byId, eventually, expandOnly, testApi } from './helpers';

interface SavedConnectionSetting {
  id: string;
  name: string;
  bootstrapServers: string;
  sasl?: { mechanism: string; username: string };
}

const saved = () => vscode.workspace.getConfiguration('minikafka').get<SavedConnectionSetting[]>('connections') ?? [];

describe('saved connections', function () {
  this.timeout(120_000);
  let api: MiniKafkaTestApi;
  let bootstrap: string;
  const added: string[] = [];

  before(async () => {
    api = await testApi();
    const started = (await vscode.commands.executeCommand(Commands.startCluster, undefined, {})) as { bootstrap: string };
    bootstrap = started.bootstrap;
  });

  after(async () => {
    for (const id of added) await vscode.commands.executeCommand(Commands.removeConnection, { clusterId: id }, {}).then(undefined, () => undefined);
  });

  it('adds a reachable connection after testing it; the explorer shows its brokers', async () => {
    const ref = (await vscode.commands.executeCommand(Commands.addConnection, { name: 'Local copy', bootstrapServers: bootstrap }, {})) as { clusterId: string };
    added.push(ref.clusterId);
    assert.equal(ref.clusterId, 'conn-local-copy');
    assert.deepEqual(
      saved().map((c) => [c.id, c.name, c.bootstrapServers]),
      [['conn-local-copy', 'Local copy', bootstrap]],
    );
    const { value: tree } = await eventually(
      () => api.treeSnapshot({ expand: expandOnly() as (n: unknown) => boolean }),
      (t) => byId(t, `${ref.clusterId}/brokers`)?.children?.length === 3,
      10000,
      'the external cluster with three brokers',
    );
    const node = byId(tree, ref.clusterId)!;
    assert.equal(node.contextValue, 'cluster.external');
    assert.equal(node.description, bootstrap);
    assert.ok(byId(tree, `${ref.clusterId}/brokers`)!.children!.every((b) => b.contextValue === 'broker.external'));
  });

  it('refuses an unreachable connection in words, or saves it when told to; the explorer shows the error', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.addConnection, { name: 'Nowhere', bootstrapServers: '127.0.0.1:1' }, {})),
      /cannot connect to Nowhere: cannot reach 127\.0\.0\.1:1 — is the cluster running\?/,
    );
    assert.ok(!saved().some((c) => c.name === 'Nowhere'));
    const ref = (await vscode.commands.executeCommand(Commands.addConnection, { name: 'Nowhere', bootstrapServers: '127.0.0.1:1' }, { saveOnFailure: true })) as {
      clusterId: string;
    };
    added.push(ref.clusterId);
    const { value: tree } = await eventually(
      () => api.treeSnapshot({ expand: expandOnly() as (n: unknown) => boolean }),
      (t) => byId(t, ref.clusterId)?.children?.[0]?.contextValue === 'placeholder.error',
      20000,
      'the error row',
    );
    assert.match(byId(tree, ref.clusterId)!.children![0].label, /cannot reach 127\.0\.0\.1:1/);
  });

  it('keeps SASL passwords out of the settings', async () => {
    const ref = (await vscode.commands.executeCommand(
      Commands.addConnection,
      { name: 'Secured', bootstrapServers: bootstrap, sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'correct horse' } },
      { test: false },
    )) as { clusterId: string };
    added.push(ref.clusterId);
    const entry = saved().find((c) => c.id === ref.clusterId)!;
    assert.deepEqual(entry.sasl, { mechanism: 'scram-sha-256', username: 'alice' });
    assert.ok(!JSON.stringify(saved()).includes('correct horse'));
  });

  it('edits and removes connections', async () => {
    await vscode.commands.executeCommand(Commands.editConnection, { clusterId: 'conn-local-copy', name: 'Local renamed' }, {});
    assert.equal(saved().find((c) => c.id === 'conn-local-copy')?.name, 'Local renamed');
    for (const id of added.splice(0)) await vscode.commands.executeCommand(Commands.removeConnection, { clusterId: id }, {});
    assert.deepEqual(saved(), []);
    const tree = await api.treeSnapshot({ maxDepth: 0 });
    assert.deepEqual(
      tree.map((n) => n.contextValue),
      ['cluster.embedded.running'],
    );
  });
});
