// SCRAM users added to and deleted from a running mini-cluster (KIP-554's AlterUserScramCredentials and
// DescribeUserScramCredentials, sent by `minikafka users`): the credentials live in the controller's metadata image,
// so every broker process accepts a new user on its next connection and refuses a deleted one. Logins are checked
// with clients we did not write: confluent-kafka (librdkafka, Debian's /usr/bin/python3) and kafkajs, on each broker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { runCli } from '../helpers/cli';
import { startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster(['--sasl', 'plain,scram-sha-256,scram-sha-512', '--user', 'admin:admin-secret'], 2);
});

after(async () => {
  await cluster?.stop();
});

const ADMIN = ['--sasl-mechanism', 'scram-sha-512', '--username', 'admin', '--admin-password', 'admin-secret'];
const users = (...args: string[]) => runCli(['users', ...args, '--bootstrap-server', cluster.bootstrap, ...ADMIN]);

/** Whether confluent-kafka can log in to `server` as `user` with `mechanism` (it lists the topics). */
function confluentLogin(server: string, mechanism: string, user: string, password: string): Promise<string> {
  const script = `
import json, sys
from confluent_kafka.admin import AdminClient
p = json.loads(sys.argv[1])
a = AdminClient({'bootstrap.servers': p['server'], 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': p['mechanism'],
                 'sasl.username': p['user'], 'sasl.password': p['password']})
try:
    a.list_topics(timeout=8)
    print('ok')
except Exception as e:
    print('failed: ' + str(e))
`;
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', script, JSON.stringify({ server, mechanism, user, password })], { timeout: 30000, env: { ...process.env, PYTHONPATH: '' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    ),
  );
}

async function kafkajsLogin(server: string, mechanism: 'scram-sha-256' | 'scram-sha-512', username: string, password: string): Promise<string> {
  const admin = new Kafka({ brokers: [server], sasl: { mechanism, username, password } as never, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000 }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return 'ok';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

test('a user added with `minikafka users add` logs in on every broker with that mechanism only; once deleted it cannot', async () => {
  const added = await users('add', 'bob', '--mechanism', 'scram-sha-512', '--password', 'bob-pw');
  assert.equal(added.code, 0, added.stderr);
  const listed = await users('list');
  assert.equal(listed.code, 0, listed.stderr);
  const rows = listed.stdout.trim().split('\n').map((l) => l.split(/\s+/));
  assert.deepEqual(rows, [
    ['USER', 'MECHANISM', 'ITERATIONS'],
    ['admin', 'SCRAM-SHA-256', '4096'],
    ['admin', 'SCRAM-SHA-512', '4096'],
    ['bob', 'SCRAM-SHA-512', '4096'],
  ]);

  for (const server of cluster.brokers) {
    assert.equal(await confluentLogin(server, 'SCRAM-SHA-512', 'bob', 'bob-pw'), 'ok', `confluent-kafka as bob on ${server}`);
    assert.equal(await kafkajsLogin(server, 'scram-sha-512', 'bob', 'bob-pw'), 'ok', `kafkajs as bob on ${server}`);
    assert.match(await kafkajsLogin(server, 'scram-sha-512', 'bob', 'wrong'), /^failed/, 'a wrong password is refused');
    assert.match(await kafkajsLogin(server, 'scram-sha-256', 'bob', 'bob-pw'), /^failed/, 'bob has no SCRAM-SHA-256 credential');
  }

  // A second mechanism has its own password; changing one leaves the other.
  assert.equal((await users('add', 'bob', '--mechanism', 'scram-sha-256', '--password', 'other-pw', '--iterations', '8192')).code, 0);
  assert.equal(await kafkajsLogin(cluster.brokers[1], 'scram-sha-256', 'bob', 'other-pw'), 'ok');
  assert.equal(await kafkajsLogin(cluster.brokers[1], 'scram-sha-512', 'bob', 'bob-pw'), 'ok');
  assert.match((await users('list')).stdout, /bob\s+SCRAM-SHA-256\s+8192/);

  const deleted = await users('delete', 'bob');
  assert.equal(deleted.code, 0, deleted.stderr);
  for (const server of cluster.brokers) {
    assert.match(await confluentLogin(server, 'SCRAM-SHA-512', 'bob', 'bob-pw'), /^failed/, `bob is refused on ${server}`);
    assert.match(await kafkajsLogin(server, 'scram-sha-256', 'bob', 'other-pw'), /^failed/);
  }
  assert.equal(await kafkajsLogin(cluster.brokers[0], 'scram-sha-512', 'admin', 'admin-secret'), 'ok', 'the start user is untouched');
});

test("Kafka's errors: deleting what does not exist, too few iterations", async () => {
  const missing = await users('delete', 'nobody', '--mechanism', 'scram-sha-256');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /does not exist/);
  const described = await users('delete', 'nobody');
  assert.notEqual(described.code, 0);
  assert.match(described.stderr, /does not exist/);
  const few = await users('add', 'carol', '--mechanism', 'scram-sha-256', '--password', 'x', '--iterations', '100');
  assert.notEqual(few.code, 0, 'the CLI refuses fewer than 4096 iterations itself');
});
