// Saved connections inside a real VS Code: added through the command with arguments (tested first), shown as
// external clusters in the explorer, unreachable ones as an error row in words, passwords kept out of settings.
// Then connect mode against a real authenticating server: a `minikafka start --tls --sasl scram-sha-512` cluster
// run by this file as a child process, reached with the CA file and SCRAM credentials, and each mistake (wrong
// password, CA not given, no TLS) refused with its own message.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../src/extension/constants';
import type { MiniKafkaTestApi } from '../../src/extension/testApi';
import { byId, eventually, EXTENSION_ID, expandOnly, testApi } from './helpers';

interface SavedConnectionSetting {
  id: string;
  name: string;
  bootstrapServers: string;
  sasl?: { mechanism: string; username: string };
  tls?: { enabled: boolean; caFile?: string; skipVerify?: boolean };
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

/** A `minikafka start` of our own (not the extension's embedded cluster), as a person would run it in a terminal. */
interface SecureCluster {
  child: ChildProcess;
  dir: string;
  bootstrap: string;
  ca: string;
  output(): string;
}

async function startSecureCluster(args: string[], timeoutMs = 60_000): Promise<SecureCluster> {
  const cli = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
  // Under the harness's temp dir when there is one, so its leftover-process sweep covers this cluster as well.
  const base = process.env.MINIKAFKA_TEST_DIR ? dirname(process.env.MINIKAFKA_TEST_DIR) : tmpdir();
  const dir = mkdtempSync(join(base, 'secure-cluster-'));
  // detached: the CLI leads its own process group (its brokers are forked into it), which after() kills whole.
  const child = spawn(process.execPath, [cli, 'start', '--dir', dir, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const cluster = { child, dir, bootstrap: '', ca: '', output: () => out };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`minikafka start did not print bootstrap within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`minikafka start exited (${signal ?? code}) before it was ready:\n${out}`));
      });
      child.stdout!.on('data', () => {
        const bootstrap = /^bootstrap: (\S+)$/m.exec(out)?.[1];
        if (!bootstrap) return;
        clearTimeout(timer);
        cluster.bootstrap = bootstrap;
        cluster.ca = /^ca: (\S+)$/m.exec(out)?.[1] ?? '';
        resolve();
      });
    });
  } catch (err) {
    await stopSecureCluster(cluster);
    throw err;
  }
  return cluster;
}

/** SIGTERM (the CLI stops its brokers), then SIGKILL to the whole group for whatever is left; removes the data. */
async function stopSecureCluster(c: SecureCluster | undefined): Promise<void> {
  if (!c) return;
  const pid = c.child.pid;
  if (pid !== undefined) {
    const exited = c.child.exitCode !== null || c.child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.child.once('exit', () => r()));
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // no process of the group is left (ESRCH)
    }
  }
  rmSync(c.dir, { recursive: true, force: true, maxRetries: 3 });
}

describe('saved connection to an authenticating server (SASL_SSL, SCRAM-SHA-512)', function () {
  this.timeout(120_000);
  const USER = 'alice';
  // Distinctive, so that finding it anywhere in the settings means it leaked there.
  const PASSWORD = 'alice-Pa55-never-in-settings';
  const TOPIC = 'secure-orders';
  let api: MiniKafkaTestApi;
  let secure: SecureCluster | undefined;
  const added: string[] = [];

  before(async () => {
    api = await testApi();
    secure = await startSecureCluster(['--brokers', '1', '--port', '0', '--tls', '--sasl', 'scram-sha-512', '--user', `${USER}:${PASSWORD}`]);
    assert.match(secure.output(), /^security: SASL_SSL \(SASL SCRAM-SHA-512; users: alice\)$/m);
    assert.equal(secure.ca, join(secure.dir, 'tls', 'ca.pem'));
  });

  after(async () => {
    for (const id of added) await vscode.commands.executeCommand(Commands.removeConnection, { clusterId: id }, {}).then(undefined, () => undefined);
    await stopSecureCluster(secure);
  });

  const everySetting = () => JSON.stringify(vscode.workspace.getConfiguration('minikafka').inspect('connections'));

  it('tests and saves it with the CA file and SCRAM credentials; the password is in the secret storage only', async () => {
    const c = secure!;
    const ref = (await vscode.commands.executeCommand(
      Commands.addConnection,
      { name: 'Secure', bootstrapServers: c.bootstrap, sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD }, tls: { enabled: true, caFile: c.ca } },
      {},
    )) as { clusterId: string };
    added.push(ref.clusterId);
    assert.equal(ref.clusterId, 'conn-secure');
    assert.deepEqual(saved().find((x) => x.id === ref.clusterId), {
      id: 'conn-secure',
      name: 'Secure',
      bootstrapServers: c.bootstrap,
      sasl: { mechanism: 'scram-sha-512', username: USER },
      tls: { enabled: true, caFile: c.ca },
    });
    // Not in any settings scope (user, workspace, folder): the explorer below can only log in with the stored secret.
    assert.ok(!everySetting().includes(PASSWORD), 'the password is in the settings');
  });

  it('the explorer shows the secured cluster: its broker, a topic created through it, the security in the tooltip', async () => {
    const id = 'conn-secure';
    // Created through the extension on the saved connection: the admin client authenticates with the secret.
    await vscode.commands.executeCommand(Commands.createTopic, { clusterId: id, topic: TOPIC }, { partitions: 2, replicationFactor: 1 });
    const { value: tree } = await eventually(
      () => api.treeSnapshot({ expand: expandOnly([TOPIC]) as (n: unknown) => boolean }),
      (t) => byId(t, `${id}/brokers`)?.children?.length === 1 && byId(t, `${id}/topics/${TOPIC}`)?.children?.length === 2,
      20_000,
      'the secured cluster with one broker and the new topic',
    );
    const node = byId(tree, id)!;
    assert.equal(node.contextValue, 'cluster.external');
    assert.match(node.tooltip!, /SASL SCRAM-SHA-512 as alice · TLS \(custom CA\)/);
    const broker = byId(tree, `${id}/brokers`)!.children![0];
    assert.equal(broker.contextValue, 'broker.external');
    assert.equal(broker.description?.split(' · ')[0], secure!.bootstrap);
    assert.match(byId(tree, `${id}/topics/${TOPIC}`)!.description!, /^2 partitions · RF 1/);
    assert.ok(!everySetting().includes(PASSWORD));
  });

  it('an edit without a password is tested with the stored one (read back from the secret storage) and keeps it', async () => {
    const id = 'conn-secure';
    // editConnection tests the draft before saving; with no password given it uses the one in SecretStorage, so
    // this succeeds only if addConnection stored it there.
    await vscode.commands.executeCommand(Commands.editConnection, { clusterId: id, name: 'Secure renamed' }, {});
    const entry = saved().find((x) => x.id === id)!;
    assert.equal(entry.name, 'Secure renamed');
    assert.deepEqual(entry.sasl, { mechanism: 'scram-sha-512', username: USER });
    assert.deepEqual(entry.tls, { enabled: true, caFile: secure!.ca });
    // A wrong new password is refused before anything is saved: the stored one still works afterwards.
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.editConnection, { clusterId: id, sasl: { mechanism: 'scram-sha-512', username: USER, password: 'typo' } }, {})),
      /cannot connect to Secure renamed: SASL authentication failed: wrong username or password/,
    );
    await vscode.commands.executeCommand(Commands.refresh, { clusterId: id }, {});
    await eventually(
      () => api.treeSnapshot({ expand: expandOnly([TOPIC]) as (n: unknown) => boolean }),
      (t) => byId(t, id)?.label === 'Secure renamed' && byId(t, `${id}/topics/${TOPIC}`)?.children?.length === 2,
      20_000,
      'the renamed connection still reading the cluster with the stored password',
    );
    assert.ok(!everySetting().includes(PASSWORD));
  });

  it('refuses a wrong password with the credentials message, and saves nothing', async () => {
    const c = secure!;
    await assert.rejects(
      Promise.resolve(
        vscode.commands.executeCommand(
          Commands.addConnection,
          { name: 'Secure wrong password', bootstrapServers: c.bootstrap, sasl: { mechanism: 'scram-sha-512', username: USER, password: 'not-the-password' }, tls: { enabled: true, caFile: c.ca } },
          {},
        ),
      ),
      /cannot connect to Secure wrong password: SASL authentication failed: wrong username or password \(broker said: .+\)$/,
    );
    assert.ok(!saved().some((x) => x.name === 'Secure wrong password'));
  });

  it('refuses a server certificate it cannot verify (no CA file) with its own message', async () => {
    const c = secure!;
    const input = { name: 'Secure no CA', bootstrapServers: c.bootstrap, sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD }, tls: { enabled: true } };
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.addConnection, input, {})),
      /cannot connect to Secure no CA: the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(.+\) — pass the cluster's CA certificate \(for a minikafka cluster: <dir>\/tls\/ca\.pem\)/,
    );
    assert.ok(!saved().some((x) => x.name === 'Secure no CA'));
    // Saved anyway when told to: the explorer's error row says the same, not a generic failure.
    const ref = (await vscode.commands.executeCommand(Commands.addConnection, input, { saveOnFailure: true })) as { clusterId: string };
    added.push(ref.clusterId);
    const { value: tree } = await eventually(
      () => api.treeSnapshot({ expand: expandOnly() as (n: unknown) => boolean }),
      (t) => byId(t, ref.clusterId)?.children?.[0]?.contextValue === 'placeholder.error',
      20_000,
      'the error row of the untrusted connection',
    );
    assert.match(byId(tree, ref.clusterId)!.children![0].label, /the TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
  });

  it('tells a plaintext connection to the TLS listener to use TLS', async () => {
    const c = secure!;
    await assert.rejects(
      Promise.resolve(
        vscode.commands.executeCommand(
          Commands.addConnection,
          { name: 'Secure no TLS', bootstrapServers: c.bootstrap, sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD } },
          {},
        ),
      ),
      /cannot connect to Secure no TLS: 127\.0\.0\.1:\d+ is a TLS listener and this connection did not use TLS — connect with TLS/,
    );
    assert.ok(!saved().some((x) => x.name === 'Secure no TLS'));
    // Saved anyway: the explorer's error row names the same mistake (the admin session explains with the options).
    const ref = (await vscode.commands.executeCommand(
      Commands.addConnection,
      { name: 'Secure no TLS', bootstrapServers: c.bootstrap, sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD } },
      { saveOnFailure: true },
    )) as { clusterId: string };
    added.push(ref.clusterId);
    const { value: tree } = await eventually(
      () => api.treeSnapshot({ expand: expandOnly() as (n: unknown) => boolean }),
      (t) => byId(t, ref.clusterId)?.children?.[0]?.contextValue === 'placeholder.error',
      20_000,
      'the error row of the plaintext connection',
    );
    assert.match(byId(tree, ref.clusterId)!.children![0].label, /is a TLS listener and this connection did not use TLS/);
  });
});
