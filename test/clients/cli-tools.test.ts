// The Kafka-script look-alikes (topics, console-producer, console-consumer, groups), run as the built CLI
// against a real in-process broker: the seed tutorial's commands, their exact output formats, and errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { CLI, runCli } from '../helpers/cli';

let broker: TestBroker;
let bootstrap: string;

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  bootstrap = broker.bootstrap;
});

after(async () => {
  await broker?.cleanup();
});

/** Runs `minikafka <command> --bootstrap-server <broker> <args>`. */
function cli(command: string, args: string[], input?: string) {
  return runCli([command, '--bootstrap-server', bootstrap, ...args], input);
}

/** Succeeds or fails with everything the process printed, for readable test failures. */
async function ok(command: string, args: string[], input?: string): Promise<string> {
  const r = await cli(command, args, input);
  assert.equal(r.code, 0, `minikafka ${command} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** A failure is exactly one `minikafka: ...` line on stderr, without a stack trace. */
function assertOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^minikafka: [^\n]+\n$/, `expected one error line, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(r.stderr, pattern);
}

function describeLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.length > 0);
}

describe('minikafka topics', () => {
  test('--create, --list and --describe in kafka-topics.sh format', async () => {
    assert.equal(
      await ok('topics', ['--create', '--topic', 'orders', '--partitions', '2', '--replication-factor', '1', '--config', 'retention.ms=86400000']),
      'Created topic orders.\n',
    );
    assert.ok(describeLines(await ok('topics', ['--list'])).includes('orders'));

    const lines = describeLines(await ok('topics', ['--describe', '--topic', 'orders']));
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^Topic: orders\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention\.ms=86400000$/);
    assert.match(lines[1], /^\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1$/);
    assert.match(lines[2], /^\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1$/);
  });

  test('--zookeeper given a broker address (the tutorial does so after the kill) is taken as the bootstrap server, with a note', async () => {
    const r = await runCli(['topics', '--create', '--zookeeper', bootstrap, '--replication-factor', '1', '--partitions', '2', '--topic', 'zk-style']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Created topic zk-style.\n');
    assert.match(r.stderr, /--zookeeper 127\.0\.0\.1:\d+ is a broker, used as --bootstrap-server/);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
  });

  test('--alter sets and deletes config overrides, keeping the others, and adds partitions', async () => {
    await ok('topics', ['--create', '--topic', 'altered', '--partitions', '1', '--config', 'retention.ms=60000']);
    await ok('topics', ['--alter', '--topic', 'altered', '--config', 'cleanup.policy=compact', '--config', 'max.message.bytes=2000']);
    let first = describeLines(await ok('topics', ['--describe', '--topic', 'altered']))[0];
    assert.match(first, /\tConfigs: cleanup\.policy=compact,max\.message\.bytes=2000,retention\.ms=60000$/);

    await ok('topics', ['--alter', '--topic', 'altered', '--delete-config', 'retention.ms']);
    await ok('topics', ['--alter', '--topic', 'altered', '--partitions', '3']);
    first = describeLines(await ok('topics', ['--describe', '--topic', 'altered']))[0];
    assert.match(first, /^Topic: altered\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: cleanup\.policy=compact,max\.message\.bytes=2000$/);
  });

  test('--delete removes the topic', async () => {
    await ok('topics', ['--create', '--topic', 'doomed']);
    await ok('topics', ['--delete', '--topic', 'doomed']);
    assert.ok(!describeLines(await ok('topics', ['--list'])).includes('doomed'));
    assertOneLineError(await cli('topics', ['--describe', '--topic', 'doomed']), /topic 'doomed' does not exist/);
  });
});

describe('minikafka console-producer and console-consumer', () => {
  test('keyed lines piped in come back from the beginning, in order per key', async () => {
    await ok('topics', ['--create', '--topic', 'lines', '--partitions', '2']);
    const input = 'k1:my test msg 1\nk2:my test msg 2\nk1:my test msg 3\n';
    await ok('console-producer', ['--topic', 'lines', '--property', 'parse.key=true', '--property', 'key.separator=:'], input);
    const out = await ok('console-consumer', ['--topic', 'lines', '--from-beginning', '--max-messages', '3', '--property', 'print.key=true', '--timeout-ms', '10000']);
    const got = describeLines(out);
    assert.deepEqual([...got].sort(), ['k1\tmy test msg 1', 'k1\tmy test msg 3', 'k2\tmy test msg 2']);
    assert.ok(got.indexOf('k1\tmy test msg 1') < got.indexOf('k1\tmy test msg 3'), 'records of one key keep their order');
  });

  test('--broker-list, lz4 and snappy compression, and reading one partition from an offset', async () => {
    await ok('topics', ['--create', '--topic', 'packed', '--partitions', '1']);
    const producer = (codec: string, input: string) =>
      runCli(['console-producer', '--broker-list', bootstrap, '--topic', 'packed', '--compression-codec', codec, '--acks', '1'], input);
    assert.equal((await producer('lz4', 'a\nb\n')).code, 0);
    assert.equal((await producer('snappy', 'c\nd\n')).code, 0);
    const out = await ok('console-consumer', ['--topic', 'packed', '--partition', '0', '--offset', '1', '--max-messages', '3', '--timeout-ms', '10000', '--property', 'print.offset=true']);
    assert.equal(out, 'Offset:1\tb\nOffset:2\tc\nOffset:3\td\n');
  });

  test('--timeout-ms ends a consumer that has nothing more to read', async () => {
    const r = await cli('console-consumer', ['--topic', 'packed', '--timeout-ms', '500']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Processed a total of 0 messages/);
  });
});

describe('minikafka groups', () => {
  test('--list, --describe with lag, --reset-offsets and --delete', async () => {
    await ok('topics', ['--create', '--topic', 'work', '--partitions', '1']);
    await ok('console-producer', ['--topic', 'work'], 'job 1\njob 2\njob 3\n');
    const consumed = await ok('console-consumer', ['--topic', 'work', '--group', 'workers', '--from-beginning', '--max-messages', '2', '--timeout-ms', '15000']);
    assert.equal(consumed, 'job 1\njob 2\n');

    assert.ok(describeLines(await ok('groups', ['--list'])).includes('workers'));
    const described = await cli('groups', ['--describe', '--group', 'workers']);
    assert.equal(described.code, 0, described.stderr);
    const [header, row] = describeLines(described.stdout);
    assert.match(header, /^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID$/);
    assert.match(row, /^workers\s+work\s+0\s+2\s+3\s+1\s+-\s+-\s+-$/);
    assert.match(described.stderr, /Consumer group 'workers' has no active members/);

    const reset = await ok('groups', ['--reset-offsets', '--group', 'workers', '--topic', 'work', '--to-earliest', '--execute']);
    assert.match(reset, /workers\s+work\s+0\s+0\n/);
    const afterReset = describeLines(await ok('groups', ['--describe', '--group', 'workers']))[1];
    assert.match(afterReset, /^workers\s+work\s+0\s+0\s+3\s+3\s/);

    assert.match(await ok('groups', ['--delete', '--group', 'workers']), /Deletion of requested consumer groups \('workers'\) was successful/);
    assert.ok(!describeLines(await ok('groups', ['--list'])).includes('workers'));
  });
});

describe('more of the Kafka scripts\' options', () => {
  test('console-producer: parse.headers with keys, acks 0, and --request-required-acks; print.headers reads them back', async () => {
    await ok('topics', ['--create', '--topic', 'headed', '--partitions', '1']);
    const input = 'trace:t1,kind:order\tk1:first\nkind:refund\tk2:second\n';
    await ok('console-producer', ['--topic', 'headed', '--property', 'parse.headers=true', '--property', 'parse.key=true', '--property', 'key.separator=:', '--acks', '0'], input);
    await ok('console-producer', ['--topic', 'headed', '--request-required-acks', '1'], 'third\n');
    const out = await ok('console-consumer', ['--topic', 'headed', '--from-beginning', '--max-messages', '3', '--timeout-ms', '10000', '--property', 'print.headers=true', '--property', 'print.key=true']);
    assert.equal(out, 'trace:t1,kind:order\tk1\tfirst\nkind:refund\tk2\tsecond\nNO_HEADERS\tnull\tthird\n');
  });

  test('a bad --acks value is a usage error', async () => {
    const r = await cli('console-producer', ['--topic', 'headed', '--acks', '2'], 'x\n');
    assertOneLineError(r, /--acks/);
    assert.equal(r.code, 2);
  });

  test('groups --describe shows an active member: consumer id, host and client id', async () => {
    await ok('topics', ['--create', '--topic', 'live', '--partitions', '2']);
    await ok('console-producer', ['--topic', 'live'], 'a\nb\n');
    // A consumer that stays in the group until killed (no --max-messages).
    const member = spawn(process.execPath, [CLI, 'console-consumer', '--bootstrap-server', bootstrap, '--topic', 'live', '--group', 'watchers', '--from-beginning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let rows: string[] = [];
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        const r = await cli('groups', ['--describe', '--group', 'watchers']);
        rows = describeLines(r.stdout).slice(1);
        if (rows.length === 2 && rows.every((l) => !/\s-\s+-\s+-$/.test(l))) break;
        await new Promise((res) => setTimeout(res, 300));
      }
      assert.equal(rows.length, 2, `one row per partition:\n${rows.join('\n')}`);
      for (const row of rows) {
        const cells = row.split(/\s+/);
        assert.equal(cells[0], 'watchers');
        assert.equal(cells[1], 'live');
        assert.match(cells[6], /^minikafka-cli-[\w-]+$/, `CONSUMER-ID column: ${row}`);
        assert.equal(cells[7], '/127.0.0.1', `HOST column: ${row}`);
        assert.equal(cells[8], 'minikafka-cli', `CLIENT-ID column: ${row}`);
      }
    } finally {
      member.kill('SIGKILL');
    }
  });

  test('groups --reset-offsets --to-offset and --to-datetime move the committed offsets exactly', async () => {
    await ok('topics', ['--create', '--topic', 'dated', '--partitions', '1']);
    await ok('console-producer', ['--topic', 'dated'], 'old 1\nold 2\n');
    await new Promise((r) => setTimeout(r, 50));
    const between = new Date();
    await new Promise((r) => setTimeout(r, 50));
    await ok('console-producer', ['--topic', 'dated'], 'new 1\nnew 2\n');
    await ok('console-consumer', ['--topic', 'dated', '--group', 'dating', '--from-beginning', '--max-messages', '4', '--timeout-ms', '15000']);
    const committed = async () => Number(describeLines(await ok('groups', ['--describe', '--group', 'dating']))[1].split(/\s+/)[3]);
    assert.equal(await committed(), 4);

    await ok('groups', ['--reset-offsets', '--group', 'dating', '--topic', 'dated', '--to-offset', '1', '--execute']);
    assert.equal(await committed(), 1);
    // kafka-consumer-groups.sh takes a local time without a zone: give it as such.
    const local = new Date(between.getTime() - between.getTimezoneOffset() * 60000).toISOString().replace('Z', '');
    const shown = await ok('groups', ['--reset-offsets', '--group', 'dating', '--topic', 'dated', '--to-datetime', local, '--dry-run']);
    assert.match(shown, /dating\s+dated\s+0\s+2\n/);
    assert.equal(await committed(), 1, '--dry-run changes nothing');
    await ok('groups', ['--reset-offsets', '--group', 'dating', '--topic', 'dated', '--to-datetime', local, '--execute']);
    assert.equal(await committed(), 2, 'the first record at or after the time');
  });
});

describe('errors are one line and a non-zero exit', () => {
  test('an unreachable bootstrap server', async () => {
    const port = await closedPort();
    const r = await runCli(['topics', '--list', '--bootstrap-server', `127.0.0.1:${port}`]);
    assertOneLineError(r, new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} — is the cluster running\\?`));
  });

  test("an invalid topic name, in the broker's words", async () => {
    assertOneLineError(await cli('topics', ['--create', '--topic', 'bad name!']), /Topic name "bad name!" is illegal/);
  });

  test('a bad config value and a bad --config syntax', async () => {
    assertOneLineError(await cli('topics', ['--create', '--topic', 'badcfg', '--config', 'retention.ms=abc']), /retention\.ms/);
    const usage = await cli('topics', ['--create', '--topic', 'badcfg', '--config', 'retention.ms']);
    assertOneLineError(usage, /invalid --config 'retention\.ms': expected key=value/);
    assert.equal(usage.code, 2);
  });

  test('consuming a topic that does not exist', async () => {
    assertOneLineError(await cli('console-consumer', ['--topic', 'missing', '--from-beginning']), /topic 'missing' does not exist/);
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
