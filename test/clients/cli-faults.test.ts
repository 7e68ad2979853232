// `minikafka start` in words when the setup is wrong: a data directory it cannot use, a wildcard listen address
// without an address clients can reach, and SASL users given outside argv (a file, an environment variable).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { CLI, CliProcess, spawnCli } from '../helpers/cli';
import { ControlClient } from '../../src/broker/cluster/controlClient';
import { CreateTopics } from '../../src/protocol/apis';
import { connectWire, produce } from '../helpers/wire';

const scratch = mkdtempSync(join(tmpdir(), 'minikafka-cli-faults-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `minikafka start` expecting it to refuse: one line on stderr, no stack trace, a non-zero exit. */
async function refusedStart(args: string[], env?: NodeJS.ProcessEnv, uid?: number) {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--control-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ?? process.env,
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.notEqual(code, 0, `start should have failed: ${stdout}${stderr}`);
  assert.notEqual(code, null, 'start hung (killed after 15 s)');
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  assert.equal(stdout, '');
  return lines[0];
}

describe('an unusable data directory', () => {
  test('a path under /proc: one line, exit 1 (and no hang)', async () => {
    assert.equal(await refusedStart(['--dir', '/proc/minikafka-x']), 'minikafka: cannot use data directory /proc/minikafka-x: no such file or directory (ENOENT)');
  });

  test('a file in the way, or under the path', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    assert.equal(await refusedStart(['--dir', file]), `minikafka: cannot use data directory ${file}: not a directory (ENOTDIR)`);
    assert.equal(await refusedStart(['--dir', join(file, 'sub'), '--brokers', '1']), `minikafka: cannot use data directory ${join(file, 'sub')}: not a directory (ENOTDIR)`);
  });

  test('a read-only file system', async (t) => {
    const mountPoint = join(scratch, 'ro');
    mkdirSync(mountPoint);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint], { stdio: 'pipe' });
    } catch {
      return t.skip('cannot mount a read-only tmpfs (needs root)');
    }
    try {
      assert.equal(await refusedStart(['--dir', mountPoint]), `minikafka: cannot use data directory ${mountPoint}: read-only file system (EROFS)`);
      assert.equal(await refusedStart(['--dir', join(mountPoint, 'data'), '--brokers', '1']), `minikafka: cannot use data directory ${join(mountPoint, 'data')}: read-only file system (EROFS)`);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  test('a directory the user may not write', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run the CLI as another user');
    const locked = join(scratch, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    chmodSync(scratch, 0o755);
    const nobody = 65534;
    assert.equal(await refusedStart(['--dir', join(locked, 'data')], { ...process.env, HOME: '/tmp' }, nobody), `minikafka: cannot use data directory ${join(locked, 'data')}: permission denied (EACCES)`);
  });
});


/** Stops a `minikafka start` started by a test (SIGTERM: a clean shutdown). */
async function stopCli(cli: CliProcess): Promise<void> {
  cli.kill('SIGTERM');
  const timer = setTimeout(() => cli.kill('SIGKILL'), 10000);
  await cli.exited;
  clearTimeout(timer);
}

describe('listening on every interface', () => {
  test('--host 0.0.0.0 without --advertised-host is refused in one line', async () => {
    assert.equal(await refusedStart(['--host', '0.0.0.0', '--dir', join(scratch, 'wild')]), 'minikafka: clients cannot connect to 0.0.0.0; add --advertised-host <name or IP clients use>');
    assert.equal(await refusedStart(['--host', '::', '--dir', join(scratch, 'wild6')]), 'minikafka: clients cannot connect to ::; add --advertised-host <name or IP clients use>');
  });

  test('--host 0.0.0.0 --advertised-host localhost: Metadata and bootstrap say localhost, replication works', async () => {
    const dir = join(scratch, 'advertised');
    const cli = await spawnCli(['start', '--brokers', '2', '--port', '0', '--control-port', '0', '--dir', dir, '--host', '0.0.0.0', '--advertised-host', 'localhost', '--log-level', 'warn']);
    try {
      assert.match(cli.output(), /^broker 1: localhost:\d+ /m);
      for (const b of cli.bootstrap.split(',')) assert.match(b, /^localhost:\d+$/);
      const kafka = new Kafka({ clientId: 'advertised', brokers: [cli.bootstrap.split(',')[0]], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster.brokers.map((b) => b.host).sort(), ['localhost', 'localhost']);
      // Replicated and acks=all: the follower fetches from the leader (over loopback) or nothing is acknowledged.
      await admin.createTopics({ topics: [{ topic: 'everywhere', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'everywhere', acks: -1, timeout: 10000, messages: [{ value: 'reachable' }] });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'everywhere-g' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'everywhere', fromBeginning: true });
      const got = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }));
      assert.equal(got, 'reachable');
      await consumer.disconnect();
    } finally {
      await stopCli(cli);
    }
  });

  test('replication does not use the advertised name (here one this machine cannot resolve)', async () => {
    const dir = join(scratch, 'unresolvable');
    const cli = await spawnCli(['start', '--brokers', '2', '--port', '0', '--control-port', '0', '--dir', dir, '--host', '0.0.0.0', '--advertised-host', 'kafka.invalid', '--log-level', 'warn']);
    try {
      assert.match(cli.bootstrap, /^kafka\.invalid:\d+,kafka\.invalid:\d+$/);
      const control = ControlClient.forDir(dir);
      const ports = (await control.state()).brokers.map((b) => b.port);
      const c = await connectWire(`127.0.0.1:${ports[0]}`);
      const created = await c.request(CreateTopics, 4, {
        topics: [{ name: 'loopback', numPartitions: 1, replicationFactor: 2, assignments: [], configs: [] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(created.topics[0].errorCode, 0, created.topics[0].errorMessage ?? '');
      c.close();
      let leaderPort = 0;
      for (let i = 0; i < 100 && !leaderPort; i++) {
        const p = (await control.state()).topics.find((t) => t.name === 'loopback')?.partitions[0];
        if (p && p.leader > 0 && p.isr.length === 2) leaderPort = (await control.state()).brokers.find((b) => b.id === p.leader)!.port;
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(leaderPort, 'no leader with a full ISR');
      const leader = await connectWire(`127.0.0.1:${leaderPort}`);
      const res = await produce(leader, 'loopback', 0, [{ value: 'replicated' }], -1);
      leader.close();
      assert.equal(res.errorCode, 0, `acks=all needs the follower to have fetched: ${res.errorMessage}`);
    } finally {
      await stopCli(cli);
    }
  });
});

describe('SASL users outside argv', () => {
  test('--user-file and MINIKAFKA_USERS: clients authenticate as those users; the passwords are in no argv, log, file or state', async () => {
    const dir = join(scratch, 'users');
    const userFile = join(scratch, 'users.txt');
    writeFileSync(userFile, '# application users\n\nalice:file-secret-1\r\ncarol:file-secret with space\n  # indented comment\nbob:overridden-by-argv\n', { mode: 0o644 });
    chmodSync(userFile, 0o644);
    const env = { ...process.env, MINIKAFKA_USERS: 'dave:env-secret-2,alice:env-loses' };
    const secrets = ['file-secret-1', 'file-secret with space', 'env-secret-2', 'env-loses', 'overridden-by-argv'];
    const child = spawn(process.execPath, [CLI, 'start', '--brokers', '2', '--port', '0', '--control-port', '0', '--dir', dir, '--log-level', 'info',
      '--sasl', 'scram-sha-256', '--sasl', 'plain', '--user-file', userFile, '--user', 'bob:argv-wins'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      for (let i = 0; i < 300 && !/bootstrap: /.test(output); i++) await new Promise((r) => setTimeout(r, 50));
      const bootstrap = /bootstrap: (\S+)/.exec(output)?.[1];
      assert.ok(bootstrap, output);
      for (const name of ['alice', 'carol', 'bob', 'dave']) assert.match(output, new RegExp(`users: .*\\b${name}\\b`));
      assert.match(output, /users\.txt holds passwords and is readable by other users \(mode 644\); chmod 600/);

      const connect = async (mechanism: 'scram-sha-256' | 'plain', username: string, password: string) => {
        const kafka = new Kafka({ clientId: 'user-file', brokers: [bootstrap!.split(',')[0]], sasl: { mechanism, username, password } as never, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.listTopics();
          return true;
        } catch {
          return false;
        } finally {
          await admin.disconnect().catch(() => {});
        }
      };
      assert.equal(await connect('scram-sha-256', 'alice', 'file-secret-1'), true, 'alice from the file (the file wins over MINIKAFKA_USERS)');
      assert.equal(await connect('scram-sha-256', 'alice', 'env-loses'), false);
      assert.equal(await connect('plain', 'carol', 'file-secret with space'), true, 'a password with a space');
      assert.equal(await connect('scram-sha-256', 'dave', 'env-secret-2'), true, 'dave from MINIKAFKA_USERS');
      assert.equal(await connect('scram-sha-256', 'bob', 'argv-wins'), true, '--user wins over the file');
      assert.equal(await connect('scram-sha-256', 'bob', 'overridden-by-argv'), false);

      // Nowhere to be read: the output, the files in the data directory, the control state, the processes' argv and
      // (brokers) environment.
      const state = JSON.stringify(await ControlClient.forDir(dir).state());
      const files = readdirSync(dir).filter((f) => /\.json$/.test(f)).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      const brokerPids = JSON.parse(state).brokers.map((b: { pid: number }) => b.pid) as number[];
      const procText = [child.pid!, ...brokerPids].map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8')).join('\n');
      const brokerEnv = brokerPids.map((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8')).join('\n');
      assert.doesNotMatch(brokerEnv, /MINIKAFKA_USERS/);
      for (const secret of secrets) {
        for (const [where, text] of [['output', output], ['state', state], ['data dir files', files], ['argv', procText], ['broker environment', brokerEnv]]) {
          assert.ok(!text.includes(secret), `${where} shows a password`);
        }
      }
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
  });

  test('a bad user file: one line naming the line, never its password', async () => {
    const userFile = join(scratch, 'bad-users.txt');
    writeFileSync(userFile, 'alice:ok\nbob-without-password\n', { mode: 0o600 });
    assert.equal(await refusedStart(['--dir', join(scratch, 'bad'), '--sasl', 'plain', '--user-file', userFile]), `minikafka: --user-file ${userFile} line 2: expected name:password, got bob-without-password`);
    writeFileSync(userFile, 'alice:ok\nalice:secret-twice\n', { mode: 0o600 });
    const twice = await refusedStart(['--dir', join(scratch, 'bad'), '--sasl', 'plain', '--user-file', userFile]);
    assert.equal(twice, `minikafka: --user-file ${userFile} line 2: user alice given twice`);
    assert.equal(await refusedStart(['--dir', join(scratch, 'bad'), '--sasl', 'plain', '--user-file', join(scratch, 'missing.txt')]), `minikafka: cannot read --user-file ${join(scratch, 'missing.txt')}: no such file or directory (ENOENT)`);
    assert.equal(
      await refusedStart(['--dir', join(scratch, 'bad'), '--sasl', 'plain'], { ...process.env, MINIKAFKA_USERS: 'x:1,broken' }),
      'minikafka: MINIKAFKA_USERS expects name:password,name2:password2, got broken',
    );
  });
});
