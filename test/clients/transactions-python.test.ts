// confluent-kafka 1.7 (librdkafka 2.0.2), Debian's package for /usr/bin/python3, unmodified, using transactions
// against a real broker: a transactional producer that commits and aborts, read_committed and read_uncommitted
// consumers, and a consume-transform-produce loop with send_offsets_to_transaction. Each scenario is a Python
// script written to a temp dir that prints one JSON object on its last stdout line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBroker, TestBroker, tempDir } from '../helpers/broker';

const PYTHON = '/usr/bin/python3';
const SCRIPT_TIMEOUT_MS = 90000;

let broker: TestBroker;
let scriptDir: string;

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  scriptDir = tempDir('minikafka-python-txn-');
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install the Debian packages "python3" and "python3-confluent-kafka"`);
});

after(async () => {
  await broker?.cleanup();
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
});

async function runScript<T>(name: string, source: string, params: Record<string, unknown>): Promise<T> {
  const file = join(scriptDir, name);
  writeFileSync(file, source);
  const child = spawn(PYTHON, [file, JSON.stringify({ bootstrap: broker.bootstrap, ...params })], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} timed out\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
    }, SCRIPT_TIMEOUT_MS);
    child.once('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const explain = `${name} exited with ${code}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`;
  assert.equal(code, 0, explain);
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
  } catch {
    throw new Error(`last stdout line of ${name} is not JSON\n${explain}`);
  }
}

/** Shared Python: read a whole topic with an isolation level until no new message for a while. */
const READ_ALL = `
import json, sys, time, uuid
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException

def read_all(bootstrap, topic, isolation, idle_s=3.0):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'read-' + uuid.uuid4().hex, 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'isolation.level': isolation})
    c.subscribe([topic])
    out, last = [], time.time()
    while time.time() - last < idle_s:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        out.append(m.value().decode())
        last = time.time()
    c.close()
    return sorted(out)
`;

describe('confluent-kafka (librdkafka 2.0.2) transactions', () => {
  test('commit and abort; read_committed sees committed records only, read_uncommitted sees all', async () => {
    const result = await runScript<{ committed: string[]; uncommitted: string[] }>(
      'txn_basic.py',
      `${READ_ALL}
p = json.loads(sys.argv[1])
prod = Producer({'bootstrap.servers': p['bootstrap'], 'transactional.id': 'py-txn-basic', 'transaction.timeout.ms': 60000})
prod.init_transactions(30)
prod.begin_transaction()
for v in ['c1', 'c2', 'c3']:
    prod.produce('py-txn', value=v.encode())
prod.commit_transaction(30)
prod.begin_transaction()
for v in ['a1', 'a2']:
    prod.produce('py-txn', value=v.encode())
prod.flush(10)
prod.abort_transaction(30)
prod.begin_transaction()
prod.produce('py-txn', value=b'c4')
prod.commit_transaction(30)
print(json.dumps({'committed': read_all(p['bootstrap'], 'py-txn', 'read_committed'),
                  'uncommitted': read_all(p['bootstrap'], 'py-txn', 'read_uncommitted')}))
`,
      {},
    );
    assert.deepEqual(result.committed, ['c1', 'c2', 'c3', 'c4']);
    assert.deepEqual(result.uncommitted, ['a1', 'a2', 'c1', 'c2', 'c3', 'c4']);
  });

  test('consume-transform-produce with send_offsets_to_transaction: every input once in the output, offsets committed', async () => {
    const result = await runScript<{ output: string[]; committed: number; aborted_round_output: string[] }>(
      'txn_ctp.py',
      `${READ_ALL}
p = json.loads(sys.argv[1])
b = p['bootstrap']
plain = Producer({'bootstrap.servers': b})
for i in range(6):
    plain.produce('py-ctp-in', value=('in-%d' % i).encode())
plain.flush(10)

group = 'py-ctp-group'
consumer = Consumer({'bootstrap.servers': b, 'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False,
                     'isolation.level': 'read_committed'})
consumer.subscribe(['py-ctp-in'])
prod = Producer({'bootstrap.servers': b, 'transactional.id': 'py-ctp', 'transaction.timeout.ms': 60000})
prod.init_transactions(30)
done, aborted_once, deadline = 0, False, time.time() + 60
while done < 6 and time.time() < deadline:
    msgs = consumer.consume(3, 1.0)
    msgs = [m for m in msgs if not m.error()]
    if not msgs:
        continue
    prod.begin_transaction()
    for m in msgs:
        prod.produce('py-ctp-out', value=('out-' + m.value().decode()).encode())
    prod.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30)
    if not aborted_once:
        # The first round is aborted: its output must never be seen and the inputs are consumed again.
        aborted_once = True
        prod.flush(10)  # sent, so that the aborted records really are in the log
        prod.abort_transaction(30)
        for tp in consumer.assignment():
            committed = consumer.committed([tp], 10)[0]
            consumer.seek(TopicPartition(tp.topic, tp.partition, committed.offset if committed.offset >= 0 else 0))
        continue
    prod.commit_transaction(30)
    done += len(msgs)
committed = consumer.committed([TopicPartition('py-ctp-in', 0)], 10)[0].offset
consumer.close()
print(json.dumps({'output': read_all(b, 'py-ctp-out', 'read_committed'), 'committed': committed,
                  'aborted_round_output': [v for v in read_all(b, 'py-ctp-out', 'read_uncommitted')]}))
`,
      {},
    );
    assert.deepEqual(result.output, ['out-in-0', 'out-in-1', 'out-in-2', 'out-in-3', 'out-in-4', 'out-in-5']);
    assert.equal(result.committed, 6);
    // The aborted round's records are in the log (read_uncommitted sees them) but not in the committed view.
    assert.ok(result.aborted_round_output.length > 6, `read_uncommitted: ${result.aborted_round_output.join(',')}`);
  });
});
