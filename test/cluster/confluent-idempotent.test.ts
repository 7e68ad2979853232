// An idempotent confluent-kafka producer (Debian's python3-confluent-kafka 1.7, librdkafka 2.0.2, unmodified;
// enable.idempotence=true, acks=all) on a topic with replication factor 3, two partitions and
// min.insync.replicas=2, while partition leaders are stopped gracefully (controlled shutdown through the control
// endpoint) or killed with kill -9, and restarted. The producer's state must follow leadership: a new leader built
// it as a follower, so a retried batch that was replicated is answered with its original offset, and a former
// leader that truncates its log drops what it knew about the cut batches. Before that, every run had duplicates and
// the producer died at the first controlled stop with a fatal OUT_OF_ORDER_SEQUENCE_NUMBER.
// Checked: no fatal error, and reading the topic back (kcat) every value is there at most once, in produce order,
// and every acknowledged value at the offset it was acknowledged with.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/broker';
import { runCli } from '../helpers/cli';
import { fullIsr, partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';
import { describeKcat, requireKcat, runKcat } from '../helpers/kcat';

const PYTHON = '/usr/bin/python3';
const TOPIC = 'confluent-idempotent';
const ROUNDS = 6;

let cluster: TestCluster;
let scriptDir: string;

before(async () => {
  requireKcat();
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install the Debian packages "python3" and "python3-confluent-kafka"`);
  cluster = await startTestCluster();
  scriptDir = tempDir('minikafka-confluent-');
});

after(async () => {
  await cluster?.stop();
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
});

/**
 * Produces "p<partition>-<n>" to both partitions every few ms until its stdin closes, then flushes and prints one
 * JSON line: acknowledged [partition, n, offset], failed deliveries, client errors and fatal errors.
 */
const PRODUCER_SCRIPT = `
import json, sys, threading, time
from confluent_kafka import Producer

params = json.loads(sys.argv[1])
acked, failed, errors, fatal = [], [], [], []
lock = threading.Lock()

def on_error(err):
    with lock:
        errors.append(str(err))
        if err.fatal():
            fatal.append(str(err))

def on_delivery(err, msg):
    partition, n = msg.value().decode().split('-')
    with lock:
        if err is not None:
            failed.append([msg.partition(), int(n), str(err)])
        else:
            acked.append([msg.partition(), int(n), msg.offset()])

producer = Producer({
    'bootstrap.servers': params['bootstrap'],
    'enable.idempotence': True,
    'acks': 'all',
    'linger.ms': 5,
    'message.timeout.ms': 60000,
    'retry.backoff.ms': 100,
    'error_cb': on_error,
})
stop = threading.Event()
def wait_for_eof():
    sys.stdin.read()
    stop.set()
threading.Thread(target=wait_for_eof, daemon=True).start()

next_n = [0, 0]
last_report = time.time()
while not stop.is_set() and not fatal:
    for partition in (0, 1):
        try:
            producer.produce(params['topic'], value=('p%d-%d' % (partition, next_n[partition])).encode(), partition=partition, on_delivery=on_delivery)
            next_n[partition] += 1
        except BufferError:
            producer.poll(0.05)
    producer.poll(0)
    if time.time() - last_report > 1:
        last_report = time.time()
        with lock:
            print('PROGRESS sent=%s acked=%d failed=%d' % (next_n, len(acked), len(failed)), flush=True)
    time.sleep(params['intervalMs'] / 1000.0)

remaining = producer.flush(90)
with lock:
    print(json.dumps({'sent': next_n, 'acked': acked, 'failed': failed, 'errors': errors, 'fatal': fatal, 'remaining': remaining}), flush=True)
`;

interface ProducerResult {
  sent: [number, number];
  acked: Array<[number, number, number]>;
  failed: Array<[number, number, string]>;
  errors: string[];
  fatal: string[];
  remaining: number;
}

function startProducer(): { stop(): Promise<ProducerResult>; progress(): number } {
  const file = join(scriptDir, 'idempotent_producer.py');
  writeFileSync(file, PRODUCER_SCRIPT);
  const child = spawn(PYTHON, [file, JSON.stringify({ bootstrap: cluster.bootstrap, topic: TOPIC, intervalMs: 5 })], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const explain = () => `--- stdout (tail) ---\n${stdout.slice(-3000)}\n--- stderr (tail) ---\n${stderr.slice(-4000)}`;
  return {
    progress: () => Number(/acked=(\d+)[^\n]*\n?$/.exec(stdout.trimEnd().split('\n').filter((l) => l.startsWith('PROGRESS')).at(-1) ?? '')?.[1] ?? 0),
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
      const code = await exited;
      clearTimeout(timer);
      assert.equal(code, 0, `the producer exited with ${code}\n${explain()}`);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        return JSON.parse(last) as ProducerResult;
      } catch {
        throw new Error(`the producer's last line is not JSON\n${explain()}`);
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('confluent-kafka idempotent producer, acks=all, RF 3, while leaders stop and crash', () => {
  test('no fatal error; every value at most once and in order; every acknowledged value at its offset', { timeout: 300000 }, async () => {
    const create = await runCli(['topics', '--bootstrap-server', cluster.bootstrap, '--create', '--topic', TOPIC, '--partitions', '2', '--replication-factor', '3', '--config', 'min.insync.replicas=2']);
    assert.equal(create.code, 0, create.stderr);
    await cluster.waitForState((s) => fullIsr(s, TOPIC), 15000, 'full ISR');

    const producer = startProducer();
    const bounces: string[] = [];
    let result!: ProducerResult;
    try {
      await sleep(1500);
      for (let round = 0; round < ROUNDS; round++) {
        const partition = round % 2;
        // Each partition sees both: controlled stop, kill -9, controlled stop.
        const action = Math.floor(round / 2) % 2 === 0 ? 'stop' : 'kill';
        const victim = partitionOf(await cluster.state(), TOPIC, partition).leader;
        assert.ok(victim >= 0, `${TOPIC}-${partition} has a leader`);
        const ackedBefore = producer.progress();
        await cluster.control.broker(victim, action);
        await cluster.waitForState((s) => {
          const p = partitionOf(s, TOPIC, partition);
          return p.leader !== victim && p.leader !== -1;
        }, 10000, `a new leader for ${TOPIC}-${partition} after ${action} of broker ${victim}`);
        await sleep(1000);
        await cluster.control.broker(victim, 'restart');
        await cluster.waitForState((s) => fullIsr(s, TOPIC), 30000, `the full ISR after restarting broker ${victim}`);
        await sleep(1200);
        bounces.push(`round ${round}: ${action} broker ${victim} (leader of ${partition}); acked ${ackedBefore} -> ${producer.progress()}`);
      }
    } finally {
      result = await producer.stop();
    }
    const summary = `${bounces.join('\n')}\nsent ${result.sent}, acked ${result.acked.length}, failed ${result.failed.length}, remaining ${result.remaining}\nerrors: ${result.errors.slice(0, 10).join('; ')}\nfailed: ${result.failed.slice(0, 5).map((f) => f.join(' ')).join('; ')}`;
    assert.deepEqual(result.fatal, [], `fatal producer errors\n${summary}`);
    assert.equal(result.remaining, 0, `messages left undelivered\n${summary}`);
    assert.ok(result.acked.length > (result.sent[0] + result.sent[1]) * 0.9, `too few acknowledged\n${summary}`);

    const read = await runKcat(['-b', cluster.bootstrap, '-C', '-t', TOPIC, '-e', '-o', 'beginning', '-f', '%p %o %s\\n'], '', 60000);
    assert.equal(read.code, 0, describeKcat(['-C'], read));
    const logged = new Map<number, Array<{ offset: number; n: number }>>([[0, []], [1, []]]);
    for (const line of read.stdout.split('\n')) {
      const m = /^(\d+) (\d+) p(\d+)-(\d+)$/.exec(line.trim());
      if (!m) continue;
      assert.equal(Number(m[1]), Number(m[3]), `value ${m[3]}-${m[4]} in partition ${m[1]}`);
      logged.get(Number(m[1]))!.push({ offset: Number(m[2]), n: Number(m[4]) });
    }
    for (const [partition, records] of logged) {
      records.sort((a, b) => a.offset - b.offset);
      const seen = new Map<number, number>();
      const duplicates: string[] = [];
      for (const r of records) {
        if (seen.has(r.n)) duplicates.push(`p${partition}-${r.n} at ${seen.get(r.n)} and ${r.offset}`);
        else seen.set(r.n, r.offset);
      }
      assert.deepEqual(duplicates.slice(0, 10), [], `${duplicates.length} duplicate(s) in partition ${partition}\n${summary}`);
      const inversion = records.findIndex((r, i) => i > 0 && r.n < records[i - 1].n);
      assert.equal(inversion, -1, `partition ${partition}: p${partition}-${records[inversion]?.n} at offset ${records[inversion]?.offset} follows p${partition}-${records[inversion - 1]?.n}\n${summary}`);
      const acked = result.acked.filter(([p]) => p === partition);
      const missing = acked.filter(([, n, offset]) => seen.get(n) !== offset).map(([, n, offset]) => `p${partition}-${n} acked at ${offset}, read at ${seen.get(n)}`);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged value(s) missing or moved in partition ${partition}\n${summary}`);
    }
    console.log(summary);
  });
});
