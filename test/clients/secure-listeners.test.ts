// Secure listeners end to end: `minikafka start --tls --sasl ... --user ...` as a real process, reached through
// the client layer (ClusterAdmin, RecordProducer, openConsumer over kafkajs) with every SASL mechanism over TLS
// and over plaintext, the one-line messages for each way a connection can be wrong, and kcat (librdkafka) from
// outside against the same listeners.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterAdmin } from '../../src/client/admin';
import { describeConnectionError, explainConnectionError, KafkaConnectionOptions, SaslMechanism } from '../../src/client/connection';
import { openConsumer } from '../../src/client/consumer';
import { RecordProducer } from '../../src/client/producer';
import { ensureTlsMaterial } from '../../src/broker/security/tls';
import { tempDir } from '../helpers/broker';
import { CLI, runCli } from '../helpers/cli';
import { startTestCluster, TestCluster } from '../helpers/cluster';

const KCAT = '/usr/bin/kcat';
const MECHANISMS: SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
const USERS = ['--user', 'alice:alice-secret', '--user', 'bob:b0b,=secret'];

let tlsCluster: TestCluster;
let plainCluster: TestCluster;
let ca: string;

/** Fail fast: these tests expect errors, and the default retries would only slow them down. */
function conn(cluster: TestCluster, extra: Partial<KafkaConnectionOptions>): KafkaConnectionOptions {
  return {
    bootstrapServers: [cluster.bootstrap],
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 10000,
    retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 300 },
    ...extra,
  };
}

/** The error a connection attempt fails with (listing topics is the first thing every command does). */
async function failure(options: KafkaConnectionOptions): Promise<unknown> {
  const admin = new ClusterAdmin(options);
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    return err;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  assert.fail('the connection was expected to fail');
}

async function roundTrip(options: KafkaConnectionOptions, topic: string): Promise<void> {
  const admin = new ClusterAdmin(options);
  await admin.connect();
  try {
    await admin.createTopic({ name: topic, partitions: 2, replicationFactor: 1 });
    assert.ok((await admin.listTopics()).some((t) => t.name === topic));
  } finally {
    await admin.disconnect();
  }
  const producer = new RecordProducer(options, { acks: -1 });
  await producer.connect();
  try {
    await producer.send(topic, [{ key: 'k1', value: 'one' }, { key: 'k2', value: 'two' }, { key: 'k3', value: 'three' }]);
  } finally {
    await producer.disconnect();
  }
  const stream = await openConsumer(options, { topic, from: 'earliest', maxWaitMs: 100 });
  const got: string[] = [];
  try {
    while (got.length < 3) {
      const r = await stream.next({ timeoutMs: 10000 });
      assert.ok(r, `timed out after ${got.length} records`);
      got.push(r.value!.toString());
    }
  } finally {
    await stream.stop();
  }
  assert.deepEqual(got.sort(), ['one', 'three', 'two']);
}

interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kcat(args: string[], input?: string, timeoutMs = 20000): Promise<KcatResult> {
  const child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => {});
  child.stdin.end(input ?? '');
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function kcatSecurity(cluster: TestCluster, protocol: 'SASL_SSL' | 'SASL_PLAINTEXT', mechanism: string, user: string, password: string): string[] {
  const args = ['-b', cluster.brokers[0], '-X', `security.protocol=${protocol}`, '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];
  if (protocol === 'SASL_SSL') args.push('-X', `ssl.ca.location=${join(cluster.dir, 'tls', 'ca.pem')}`);
  return args;
}

describe('secure listeners', () => {
  before(async () => {
    if (!existsSync(KCAT)) throw new Error(`${KCAT} not found: install the Debian package "kcat" (apt-get install kcat; CI does it in .ci/run)`);
    [tlsCluster, plainCluster] = await Promise.all([
      startTestCluster(['--tls', '--sasl', 'plain,scram-sha-256', '--sasl', 'scram-sha-512', ...USERS], 1),
      startTestCluster(['--sasl', 'plain,scram-sha-256,scram-sha-512', ...USERS], 1),
    ]);
    ca = readFileSync(join(tlsCluster.dir, 'tls', 'ca.pem'), 'utf8');
  });
  after(async () => {
    await Promise.all([tlsCluster?.stop(), plainCluster?.stop()]);
  });

  test('the start output, the control endpoint and cluster.json say which security is on and where the CA is', async () => {
    const caFile = join(tlsCluster.dir, 'tls', 'ca.pem');
    assert.match(tlsCluster.cli.output(), /security: SASL_SSL \(SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; users: alice, bob\)/);
    assert.ok(tlsCluster.cli.output().includes(`ca: ${caFile}\n`));
    const state = await tlsCluster.state();
    assert.deepEqual(state.security, { protocol: 'SASL_SSL', tls: true, saslMechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], users: ['alice', 'bob'], caFile });
    assert.deepEqual((await plainCluster.state()).security?.protocol, 'SASL_PLAINTEXT');
    assert.equal((await plainCluster.state()).security?.caFile, null);
    const layout = JSON.parse(readFileSync(join(tlsCluster.dir, 'cluster.json'), 'utf8'));
    assert.equal(layout.security.protocol, 'SASL_SSL');
    assert.ok(!readFileSync(join(tlsCluster.dir, 'cluster.json'), 'utf8').includes('secret'), 'no password in cluster.json');
    for (const f of ['ca.pem', 'ca-key.pem', 'broker.pem', 'broker-key.pem']) assert.ok(existsSync(join(tlsCluster.dir, 'tls', f)), f);
    assert.equal(statSync(join(tlsCluster.dir, 'tls', 'broker-key.pem')).mode & 0o077, 0, 'private keys are private');
  });

  for (const mechanism of MECHANISMS) {
    test(`${mechanism} over TLS: create a topic, produce, consume`, async () => {
      await roundTrip(conn(tlsCluster, { ssl: { ca }, sasl: { mechanism, username: 'alice', password: 'alice-secret' } }), `tls-${mechanism}`);
    });
    test(`${mechanism} over plaintext: create a topic, produce, consume`, async () => {
      await roundTrip(conn(plainCluster, { sasl: { mechanism, username: 'bob', password: 'b0b,=secret' } }), `plain-${mechanism}`);
    });
  }

  test('a wrong password gives the credentials message, for every mechanism', async () => {
    for (const mechanism of MECHANISMS) {
      const options = conn(tlsCluster, { ssl: { ca }, sasl: { mechanism, username: 'alice', password: 'wrong' } });
      const message = describeConnectionError(await failure(options), options);
      assert.match(message, /^SASL authentication failed: wrong username or password \(broker said: Authentication failed/, mechanism);
      assert.ok(!message.includes('\n') && !message.includes('    at '), 'one line, no stack');
    }
    const unknown = conn(plainCluster, { sasl: { mechanism: 'scram-sha-256', username: 'mallory', password: 'x' } });
    assert.match(describeConnectionError(await failure(unknown), unknown), /^SASL authentication failed: wrong username or password/);
  });

  test('a certificate from another CA gives the certificate message', async () => {
    const otherDir = tempDir('minikafka-other-ca-');
    try {
      const other = ensureTlsMaterial(otherDir);
      const options = conn(tlsCluster, { ssl: { ca: readFileSync(other.caFile, 'utf8') }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } });
      assert.match(describeConnectionError(await failure(options), options), /^the TLS certificate of 127\.0\.0\.1:\d+\S* is not trusted \(.*\) — pass the cluster's CA certificate/);
      // the system trust store does not know the cluster's CA either
      const system = conn(tlsCluster, { ssl: true, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } });
      assert.match(describeConnectionError(await failure(system), system), /is not trusted/);
      // verification off (a test cluster) connects
      await roundTrip(conn(tlsCluster, { ssl: { rejectUnauthorized: false }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } }), 'tls-insecure');
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test('plaintext to the TLS listener, TLS to the plaintext listener, no SASL, unreachable: each its own message', async () => {
    const noTls = conn(tlsCluster, { sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } });
    const err = await failure(noTls);
    assert.match(describeConnectionError(err, noTls), /closed the connection before answering — the listener probably expects TLS: connect with TLS$/);
    assert.match(await explainConnectionError(err, noTls), /^127\.0\.0\.1:\d+ is a TLS listener and this connection did not use TLS — connect with TLS/);

    const tlsToPlain = conn(plainCluster, { ssl: { ca }, sasl: { mechanism: 'plain', username: 'bob', password: 'b0b,=secret' } });
    assert.match(describeConnectionError(await failure(tlsToPlain), tlsToPlain), /^TLS handshake with 127\.0\.0\.1:\d+ failed: the listener does not speak TLS — connect without TLS$/);

    const noSasl = conn(plainCluster, {});
    assert.match(await explainConnectionError(await failure(noSasl), noSasl), /the listener probably requires SASL authentication: give a mechanism, username and password$/);

    const unreachable: KafkaConnectionOptions = { ...conn(plainCluster, {}), bootstrapServers: ['127.0.0.1:1'] };
    assert.equal(describeConnectionError(await failure(unreachable), unreachable), 'cannot reach 127.0.0.1:1 — is the cluster running?');
  });

  test('the CLI client commands take --tls --ca-file --sasl-mechanism --username --password', async () => {
    const caFile = join(tlsCluster.dir, 'tls', 'ca.pem');
    const flags = ['--bootstrap-server', tlsCluster.bootstrap, '--ca-file', caFile, '--sasl-mechanism', 'scram-sha-512', '--username', 'alice', '--password', 'alice-secret'];
    const created = await runCli(['topics', ...flags, '--create', '--topic', 'cli-secure', '--partitions', '1']);
    assert.equal(created.code, 0, created.stderr);
    const produced = await runCli(['console-producer', ...flags, '--topic', 'cli-secure'], 'hello\nworld\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runCli(['console-consumer', ...flags, '--topic', 'cli-secure', '--from-beginning', '--max-messages', '2']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout, 'hello\nworld\n');
    const groups = await runCli(['groups', ...flags, '--list']);
    assert.equal(groups.code, 0, groups.stderr);

    const wrong = await runCli(['topics', ...flags.slice(0, -1), 'nope', '--list']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^minikafka: SASL authentication failed: wrong username or password/);
    const plain = await runCli(['topics', '--bootstrap-server', tlsCluster.bootstrap, '--list']);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /^minikafka: 127\.0\.0\.1:\d+ is a TLS listener and this connection did not use TLS/);
    const untrusted = await runCli(['topics', '--bootstrap-server', tlsCluster.bootstrap, '--tls', '--sasl-mechanism', 'plain', '--username', 'alice', '--password', 'alice-secret', '--list']);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /is not trusted/);
    const insecure = await runCli(['topics', '--bootstrap-server', tlsCluster.bootstrap, '--insecure', '--sasl-mechanism', 'plain', '--username', 'alice', '--list'], undefined, 30000);
    assert.equal(insecure.code, 2, 'a missing password is a usage error');
    assert.match(insecure.stderr, /--password/);
    const viaEnv = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'topics', '--bootstrap-server', tlsCluster.bootstrap, '--insecure', '--sasl-mechanism', 'plain', '--username', 'alice', '--list'], {
        env: { ...process.env, MINIKAFKA_PASSWORD: 'alice-secret' },
        stdio: 'ignore',
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    assert.equal(viaEnv, 0, 'the password from MINIKAFKA_PASSWORD');
  });

  test('minikafka start refuses --sasl without users, --user without --sasl, and unknown mechanisms', async () => {
    const dir = tempDir('minikafka-bad-start-');
    try {
      const noUsers = await runCli(['start', '--dir', dir, '--port', '0', '--sasl', 'scram-sha-256']);
      assert.equal(noUsers.code, 2);
      assert.equal(noUsers.stderr, 'minikafka: --sasl needs at least one user: --user name:password, --user-file F or MINIKAFKA_USERS (clients authenticate as one of these users)\n');
      const noSasl = await runCli(['start', '--dir', dir, '--port', '0', '--user', 'a:b']);
      assert.equal(noSasl.code, 2);
      assert.match(noSasl.stderr, /^minikafka: --user and --user-file only make sense with --sasl/);
      const unknown = await runCli(['start', '--dir', dir, '--port', '0', '--sasl', 'gssapi', '--user', 'a:b']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /^minikafka: unknown SASL mechanism "gssapi"/);
      const badUser = await runCli(['start', '--dir', dir, '--port', '0', '--sasl', 'plain', '--user', 'nopassword']);
      assert.equal(badUser.code, 2);
      assert.match(badUser.stderr, /^minikafka: --user expects name:password/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kcat (librdkafka) reaches the same listeners: SASL_SSL and SASL_PLAINTEXT with each mechanism', async () => {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const md = await kcat([...kcatSecurity(tlsCluster, 'SASL_SSL', mechanism, 'alice', 'alice-secret'), '-L', '-m', '10']);
      assert.equal(md.code, 0, `${mechanism}: ${md.stderr}`);
      assert.match(md.stdout, /from broker 1: sasl_ssl:\/\/127\.0\.0\.1:\d+\/1/);
      const plain = await kcat([...kcatSecurity(plainCluster, 'SASL_PLAINTEXT', mechanism, 'bob', 'b0b,=secret'), '-L', '-m', '10']);
      assert.equal(plain.code, 0, `${mechanism}: ${plain.stderr}`);
    }
    const security = kcatSecurity(tlsCluster, 'SASL_SSL', 'SCRAM-SHA-256', 'alice', 'alice-secret');
    const produced = await kcat([...security, '-P', '-t', 'kcat-secure', '-K', ':'], 'a:first\nb:second\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat([...kcatSecurity(tlsCluster, 'SASL_SSL', 'SCRAM-SHA-512', 'bob', 'b0b,=secret'), '-C', '-t', 'kcat-secure', '-o', 'beginning', '-e', '-f', '%k=%s\\n']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n').sort(), ['a=first', 'b=second']);
    // what kcat wrote is readable through the client layer too
    const stream = await openConsumer(conn(tlsCluster, { ssl: { ca }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } }), { topic: 'kcat-secure', from: 'earliest', maxWaitMs: 100 });
    const values: string[] = [];
    try {
      for (let i = 0; i < 2; i++) values.push((await stream.next({ timeoutMs: 10000 }))!.value!.toString());
    } finally {
      await stream.stop();
    }
    assert.deepEqual(values.sort(), ['first', 'second']);
  });

  test('kcat with a wrong password, or without the CA, fails', async () => {
    const wrong = await kcat([...kcatSecurity(tlsCluster, 'SASL_SSL', 'SCRAM-SHA-256', 'alice', 'wrong'), '-L', '-m', '3']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/);
    const wrongPlain = await kcat([...kcatSecurity(plainCluster, 'SASL_PLAINTEXT', 'PLAIN', 'bob', 'wrong'), '-L', '-m', '3']);
    assert.notEqual(wrongPlain.code, 0);
    assert.match(wrongPlain.stderr, /Invalid username or password/);
    const noCa = await kcat(['-b', tlsCluster.brokers[0], '-X', 'security.protocol=SASL_SSL', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret', '-L', '-m', '3']);
    assert.notEqual(noCa.code, 0);
    assert.match(noCa.stderr, /certificate verify failed/);
  });
});
