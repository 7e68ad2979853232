// kcat 1.7.1 (librdkafka 2.0.2, Debian's /usr/bin/kcat), unmodified, run as a child process against a real
// broker on a loopback socket. Our own WireClient creates topics and reads back what kcat left on the broker
// (stored batch codecs, committed offsets), so every check is on the broker's state, not only on kcat's view.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { WireClient } from '../../src/broker/wireClient';
import { CreateTopics, Fetch, OffsetFetch } from '../../src/protocol/apis';
import { ZERO_UUID } from '../../src/protocol/schema';
import { iterateBatchHeaders } from '../../src/protocol/records/recordBatch';
import { ATTR_COMPRESSION_MASK, CompressionType } from '../../src/protocol/records/batchHeader';

const KCAT = '/usr/bin/kcat';
const KCAT_TIMEOUT_MS = 20000;

let broker: TestBroker;
let wire: WireClient;

before(async () => {
  if (!existsSync(KCAT)) {
    throw new Error(`${KCAT} not found: install the Debian package "kcat" (apt-get install kcat; CI does it in .ci/run)`);
  }
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  wire = new WireClient('127.0.0.1', broker.broker.port, 'kcat-test-inspector');
  await wire.connect();
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
});

// ---------------------------------------------------------------------------------------------------------------
// Running kcat

interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function describeRun(args: string[], stdout: string, stderr: string): string {
  return `kcat ${args.join(' ')}\n--- stdout ---\n${stdout.slice(-3000)}\n--- stderr ---\n${stderr.slice(-3000)}`;
}

/** Runs kcat to completion; a hang is killed after `timeoutMs` and fails with its output so far. */
function runKcat(args: string[], input?: string, timeoutMs = KCAT_TIMEOUT_MS): Promise<KcatResult> {
  const child = spawn(KCAT, ['-b', broker.bootstrap, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => {}); // kcat may exit before reading all of stdin; the exit code tells
  child.stdin!.end(input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${describeRun(args, stdout, stderr)}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${KCAT}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function runKcatOk(args: string[], input?: string): Promise<KcatResult> {
  const result = await runKcat(args, input);
  assert.equal(result.code, 0, `exit code of ${describeRun(args, result.stdout, result.stderr)}`);
  return result;
}

/** A long-running kcat (balanced consumer). */
class KcatProcess {
  private out = '';
  private err = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(readonly name: string, private readonly args: string[]) {
    this.child = spawn(KCAT, ['-b', broker.bootstrap, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.err += d));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  describe(): string {
    return `[${this.name}] ${describeRun(this.args, this.out, this.err)}`;
  }

  async waitFor(what: string, cond: () => boolean, timeoutMs = KCAT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (!this.running) throw new Error(`${this.name} exited (${this.child.exitCode}) while waiting for ${what}\n${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (kcat commits and leaves the group), SIGKILL if it does not exit in time. Resolves with the exit code. */
  async stop(timeoutMs = 15000): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Partitions of `topic` in the latest "% Group ... rebalanced ...: assigned: t [0], t [2]" line, or undefined. */
  latestAssignment(topic: string): number[] | undefined {
    const lines = this.err.split('\n').filter((l) => / rebalanced \(.*\): (assigned|revoked):/.test(l));
    const last = lines.at(-1);
    if (!last || !/: assigned:/.test(last)) return undefined;
    return [...last.matchAll(new RegExp(`${topic} \\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])).sort((a, b) => a - b);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the broker's state with our own client

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await wire.request(CreateTopics, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(res.topics[0].errorCode, 0, `CreateTopics ${name}: ${res.topics[0].errorMessage}`);
}

/** Compression codec of every batch stored in `topic`/`partition` (read with Fetch v11 from offset 0). */
async function storedBatchCodecs(topic: string, partition: number): Promise<CompressionType[]> {
  const res = await wire.request(Fetch, 11, {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 64 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: ZERO_UUID,
        partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 64 * 1024 * 1024 }],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const data = res.responses[0].partitions[0];
  assert.equal(data.errorCode, 0, `Fetch ${topic}-${partition}`);
  const records = data.records ?? Buffer.alloc(0);
  return [...iterateBatchHeaders(records)].map(({ header }) => (header.attributes & ATTR_COMPRESSION_MASK) as CompressionType);
}

/** Committed offsets of `group` for partitions 0..n-1 of `topic`, read with OffsetFetch v7 (what librdkafka 2.0.2 uses). */
async function committedOffsets(group: string, topic: string, partitions: number): Promise<number[]> {
  const res = await wire.request(OffsetFetch, 7, {
    groupId: group,
    topics: [{ name: topic, partitionIndexes: Array.from({ length: partitions }, (_, i) => i) }],
    groups: [],
    requireStable: false,
  });
  assert.equal(res.errorCode, 0, 'OffsetFetch error code');
  const parts = res.topics.find((t) => t.name === topic)?.partitions ?? [];
  for (const p of parts) assert.equal(p.errorCode, 0, `OffsetFetch ${topic}-${p.partitionIndex}`);
  return parts.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => Number(p.committedOffset));
}

// ---------------------------------------------------------------------------------------------------------------
// Consumed output

interface ConsumedLine {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

const CONSUME_FORMAT = '%p:%o:%k=%s\n';

function parseConsumed(stdout: string): ConsumedLine[] {
  // Complete lines only: the output of a kcat that still runs may end in the middle of a line ("0:" was seen).
  return stdout
    .slice(0, stdout.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const m = /^(\d+):(\d+):([^=]*)=(.*)$/.exec(line);
      assert.ok(m, `unexpected kcat output line: ${JSON.stringify(line)}`);
      return { partition: Number(m[1]), offset: Number(m[2]), key: m[3], value: m[4] };
    });
}

/** Every key stays in one partition, and its values (which end in "-<sequence number>") come in produce order. */
function assertPerKeyOrder(consumed: ConsumedLine[]): void {
  const byKey = new Map<string, ConsumedLine[]>();
  for (const line of consumed) byKey.set(line.key, [...(byKey.get(line.key) ?? []), line]);
  for (const [key, lines] of byKey) {
    assert.equal(new Set(lines.map((l) => l.partition)).size, 1, `key ${key} lives in one partition`);
    const sequence = lines.map((l) => Number(/-(\d+)$/.exec(l.value)?.[1]));
    assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), `key ${key} consumed in produce order`);
  }
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms\n${explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('kcat (librdkafka 2.0.2)', () => {
  test('-L lists the broker as controller and every partition with its leader, replicas and ISR', async () => {
    await createTopic('kc-listed', 3);
    const { stdout } = await runKcatOk(['-L']);
    assert.match(stdout, /^ 1 brokers:$/m);
    assert.match(stdout, new RegExp(`^  broker 1 at 127\\.0\\.0\\.1:${broker.broker.port} \\(controller\\)$`, 'm'));
    assert.match(stdout, /^  topic "kc-listed" with 3 partitions:$/m);
    for (let p = 0; p < 3; p++) assert.match(stdout, new RegExp(`^    partition ${p}, leader 1, replicas: 1, isrs: 1$`, 'm'));

    const one = await runKcatOk(['-L', '-t', 'kc-listed']);
    assert.match(one.stdout, /^ 1 topics:$/m);
    assert.doesNotMatch(one.stdout, /err|error/i, 'no partition or topic error');
  });

  for (const [codec, type] of [
    ['none', CompressionType.None],
    ['gzip', CompressionType.Gzip],
    ['snappy', CompressionType.Snappy],
    ['lz4', CompressionType.Lz4],
    ['zstd', CompressionType.Zstd],
  ] as const) {
    test(`-P -z ${codec} with keys, then -C -o beginning -e returns exactly those records in per-key order`, async () => {
      const topic = `kc-codec-${codec}`;
      await createTopic(topic, 3);
      // Repetitive values so every codec actually shrinks the batch (librdkafka sends a batch uncompressed otherwise).
      const produced = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 5}`, value: `${codec} ${'payload '.repeat(8)}-${i}` }));
      const input = produced.map((m) => `${m.key}:${m.value}\n`).join('');
      await runKcatOk(['-P', '-t', topic, '-z', codec, '-K:', '-X', 'linger.ms=50'], input);

      const { stdout } = await runKcatOk(['-C', '-t', topic, '-o', 'beginning', '-e', '-f', CONSUME_FORMAT]);
      const consumed = parseConsumed(stdout);
      assert.deepEqual(
        consumed.map((c) => `${c.key}=${c.value}`).sort(),
        produced.map((m) => `${m.key}=${m.value}`).sort(),
        'consumed exactly the produced key=value pairs',
      );
      assertPerKeyOrder(consumed);

      const codecs = (await Promise.all([0, 1, 2].map((p) => storedBatchCodecs(topic, p)))).flat();
      assert.ok(codecs.length > 0, 'batches are stored');
      assert.deepEqual([...new Set(codecs)], [type], `every stored batch is ${codec}-compressed (the broker got what kcat sent)`);
    });
  }

  test('two balanced consumers (-G) split the partitions, commit, and one takes over when the other leaves', async () => {
    const topic = 'kc-grouped';
    const group = 'kc-group';
    const partitions = 4;
    await createTopic(topic, partitions);
    const round = (n: number) => Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 8}`, value: `round${n}-${i}` }));
    const produce = (messages: Array<{ key: string; value: string }>) =>
      runKcatOk(['-P', '-t', topic, '-K:'], messages.map((m) => `${m.key}:${m.value}\n`).join(''));
    const consumerArgs = [
      '-G', group,
      '-u', // unbuffered output: lines appear as they are consumed
      '-f', CONSUME_FORMAT,
      '-X', 'auto.offset.reset=earliest',
      '-X', 'heartbeat.interval.ms=300',
      '-X', 'session.timeout.ms=6000',
      // Offsets are then committed only when partitions are revoked or the consumer closes, never "by luck" on a timer.
      '-X', 'auto.commit.interval.ms=60000',
      topic,
    ];
    await produce(round(1));

    const first = new KcatProcess('first', consumerArgs);
    let second: KcatProcess | undefined;
    const describeBoth = () => `${first.describe()}\n${second?.describe() ?? ''}`;
    try {
      await first.waitFor('assignment of all 4 partitions', () => first.latestAssignment(topic)?.length === partitions);
      await first.waitFor('40 round-1 records', () => parseConsumed(first.stdout).length >= 40);

      second = new KcatProcess('second', consumerArgs);
      const both = second;
      await waitUntil(
        'split of the partitions between the two consumers',
        () => (first.latestAssignment(topic)?.length ?? 0) + (both.latestAssignment(topic)?.length ?? 0) === partitions && (both.latestAssignment(topic)?.length ?? 0) > 0,
        KCAT_TIMEOUT_MS,
        describeBoth,
      );
      const firstPartitions = first.latestAssignment(topic)!;
      const secondPartitions = both.latestAssignment(topic)!;
      assert.deepEqual([...firstPartitions, ...secondPartitions].sort(), [0, 1, 2, 3], 'disjoint assignments covering every partition');
      assert.equal(firstPartitions.length, 2, 'range assignor gives each of the two members half');

      await produce(round(2));
      const round2Of = (p: KcatProcess) => parseConsumed(p.stdout).filter((c) => c.value.startsWith('round2-'));
      await waitUntil('all 40 round-2 records', () => round2Of(first).length + round2Of(both).length >= 40, KCAT_TIMEOUT_MS, describeBoth);
      assert.deepEqual([...new Set(round2Of(first).map((c) => c.partition))].sort(), firstPartitions, 'first reads only its partitions');
      assert.deepEqual([...new Set(round2Of(both).map((c) => c.partition))].sort(), secondPartitions, 'second reads only its partitions');

      // The second member leaves (it commits on close); the first takes every partition back.
      assert.equal(await both.stop(), 0, `second exits cleanly\n${both.describe()}`);
      await first.waitFor('assignment of all 4 partitions after the other member left', () => first.latestAssignment(topic)?.length === partitions);
      await produce(round(3));
      await first.waitFor('all 40 round-3 records', () => parseConsumed(first.stdout).filter((c) => c.value.startsWith('round3-')).length >= 40);

      // Nothing was delivered twice: offsets committed while partitions were revoked (librdkafka commits on
      // revoke, during PreparingRebalance) were accepted, so no member re-read what another had consumed.
      const everything = [...parseConsumed(first.stdout), ...parseConsumed(both.stdout)];
      const seen = new Map<string, number>();
      for (const c of everything) seen.set(`${c.partition}@${c.offset}`, (seen.get(`${c.partition}@${c.offset}`) ?? 0) + 1);
      const duplicates = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
      assert.deepEqual(duplicates, [], `records delivered more than once (partition@offset)\n${describeBoth()}`);
      assert.equal(everything.length, 120);
      assertPerKeyOrder(everything.filter((c) => c.value.startsWith('round3-')));

      assert.equal(await first.stop(), 0, `first exits cleanly\n${first.describe()}`);
      // Committed = one past the last offset consumed in each partition (keys spread the records unevenly).
      const ends = new Map<number, number>();
      for (const c of everything) ends.set(c.partition, Math.max(ends.get(c.partition) ?? 0, c.offset + 1));
      const expected = Array.from({ length: partitions }, (_, p) => ends.get(p) ?? -1);
      assert.deepEqual(await committedOffsets(group, topic, partitions), expected, 'committed offsets are the end of each partition');
    } finally {
      await second?.stop();
      await first.stop();
    }
  });

  test('a balanced consumer (-G) that stops after part of the data commits it; the next one in the group resumes exactly there', async () => {
    const topic = 'kc-resume';
    const group = 'kc-resume-group';
    const partitions = 3;
    await createTopic(topic, partitions);
    const produce = (from: number, count: number) =>
      runKcatOk(['-P', '-t', topic, '-K:'], Array.from({ length: count }, (_, i) => `k${(from + i) % 9}:v-${from + i}\n`).join(''));
    await produce(0, 60);
    const groupArgs = [
      '-G', group,
      '-f', CONSUME_FORMAT,
      '-X', 'auto.offset.reset=earliest',
      // No timed commit: what is committed is what kcat commits as it closes, i.e. the offsets it handed out.
      '-X', 'auto.commit.interval.ms=60000',
    ];

    // -c 25: kcat exits after 25 records, and commits (on close) one past the last record it delivered per partition.
    const first = parseConsumed((await runKcatOk([...groupArgs, '-c', '25', topic])).stdout);
    assert.equal(first.length, 25);
    const consumedEnds = Array.from({ length: partitions }, (_, p) => {
      const offsets = first.filter((c) => c.partition === p).map((c) => c.offset);
      return offsets.length ? Math.max(...offsets) + 1 : -1;
    });
    for (let p = 0; p < partitions; p++) {
      const offsets = first.filter((c) => c.partition === p).map((c) => c.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p} read from its start, in order`);
    }
    assert.deepEqual(await committedOffsets(group, topic, partitions), consumedEnds, 'committed = one past what the first consumer read');

    // More records arrive while no member is running; the next member must read those too.
    await produce(60, 15);
    // -e: exit once every assigned partition is at its end (the partitions are all this member's).
    const second = parseConsumed((await runKcatOk([...groupArgs, '-e', topic])).stdout);
    const at = (c: ConsumedLine) => `${c.partition}@${c.offset}`;
    const firstSet = new Set(first.map(at));
    assert.deepEqual(second.filter((c) => firstSet.has(at(c))).map(at), [], 'no record of the committed range is read again');
    for (let p = 0; p < partitions; p++) {
      const offsets = second.filter((c) => c.partition === p).map((c) => c.offset);
      const from = Math.max(consumedEnds[p], 0);
      assert.deepEqual(offsets, offsets.map((_, i) => from + i), `partition ${p} resumes at the committed offset ${from}, no gap`);
    }
    const everything = [...first, ...second];
    assert.deepEqual(
      everything.map((c) => c.value).sort(),
      Array.from({ length: 75 }, (_, i) => `v-${i}`).sort(),
      'together the two members read every record exactly once',
    );
    assertPerKeyOrder(everything);
    const ends = Array.from({ length: partitions }, (_, p) => everything.filter((c) => c.partition === p).length);
    assert.deepEqual(await committedOffsets(group, topic, partitions), ends, 'the second member committed the end of each partition');
  });

  test('-Q -t topic:partition:timestamp returns the first offset at or after the timestamp', async () => {
    const topic = 'kc-by-time';
    await createTopic(topic, 1);
    const lines = (from: number) => Array.from({ length: 5 }, (_, i) => `m${from + i}\n`).join('');
    await runKcatOk(['-P', '-t', topic, '-p', '0'], lines(0));
    await new Promise((r) => setTimeout(r, 150));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 150));
    await runKcatOk(['-P', '-t', topic, '-p', '0'], lines(5));

    const query = async (ts: number) => {
      const { stdout } = await runKcatOk(['-Q', '-t', `${topic}:0:${ts}`]);
      const m = new RegExp(`^${topic} \\[0\\] offset (-?\\d+)$`, 'm').exec(stdout);
      assert.ok(m, `kcat -Q output: ${stdout}`);
      return Number(m[1]);
    };
    assert.equal(await query(between), 5, 'first record produced after the timestamp');
    assert.equal(await query(between - 3_600_000), 0, 'a timestamp before everything gives the first offset');
    assert.equal(await query(Date.now() + 3_600_000), -1, 'a timestamp after everything gives -1');
    assert.equal(await query(-2), 0, '-2 = earliest');
    assert.equal(await query(-1), 10, '-1 = latest');
  });
});
