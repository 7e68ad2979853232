// Exactly-once under failover (issue 11): a consume-transform-produce loop on the 3-broker mini-cluster while a
// seeded schedule kills -9, pauses and stops (controlled shutdown) the transaction coordinator's broker, the
// leaders of the input and output partitions, the group coordinator and random brokers, one at a time, healing
// each fault (every ISR full) before the next, and now and then kills -9 the transformers' own process (a client
// crash mid-transaction: the next process's producers fence the dead ones and abort what they left open). Clients we did not write, unmodified, under Debian's
// /usr/bin/python3 (confluent-kafka 1.7, librdkafka 2.0.2): two idempotent producers feed the input topic
// (test/cluster/chaos_clients.py `produce`); two members of one group, each with a transactional producer, copy
// every input record to the output topic in transactions that also commit the group's offsets
// (send_offsets_to_transaction with the group metadata, test/cluster/eos_clients.py `transform`), aborting and
// rewinding on abortable errors and re-creating the producer when fenced. Afterwards a fresh read_committed
// reader must find each input record in the output exactly once, in order per partition, and the group's
// committed offsets at the input's end.
//
// EOS_SEED (default 1), EOS_SECONDS (default 40), EOS_TXN_TIMEOUT_MS (default 30000) and EOS_KEEP=1 (keep the
// cluster's dir and the client logs) are read from the environment. A failure names the seed, the executed
// schedule and the cluster log tail.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterState } from '../../src/broker/cluster/supervisor';
import { offsetsPartitionFor } from '../../src/broker/groups/offsetsRecords';
import { runCli } from '../helpers/cli';
import { fullIsr, startTestCluster, TestCluster } from '../helpers/cluster';
import { checkExactlyOnce } from '../helpers/eos';
import { Ev, killDrivers, prng, PyProcess, PYTHON, spawnPython } from '../helpers/python';

const SEED = Number(process.env.EOS_SEED ?? 1);
const SECONDS = Number(process.env.EOS_SECONDS ?? 40);
const KEEP = process.env.EOS_KEEP === '1';
/** transaction.timeout.ms of the transformers: a short one makes the coordinator abort (and fence) stalled ones. */
const TXN_TIMEOUT_MS = Number(process.env.EOS_TXN_TIMEOUT_MS ?? 30000);
const INPUT = 'eos-in';
const OUTPUT = 'eos-out';
const PARTITIONS = 3;
const GROUP = 'eos-group';
const TXN_PREFIX = 'eos-tx';
const MEMBERS = 2;
const INTERNAL = ['__consumer_offsets', '__transaction_state'];
const HEAL_TIMEOUT_MS = 30000;

type Role = 'random' | 'txn-coordinator' | 'input-leader' | 'output-leader' | 'group-coordinator' | 'transformer';
type Action = 'kill' | 'pause' | 'stop';

interface PlannedFault {
  gapMs: number;
  role: Role;
  pick: number;
  action: Action;
  downMs: number;
}

function plan(seed: number, seconds: number): PlannedFault[] {
  const rnd = prng(seed);
  const roles: Array<[Role, number]> = [['txn-coordinator', 3], ['input-leader', 2], ['output-leader', 2], ['group-coordinator', 1], ['random', 1], ['transformer', 1]];
  const total = roles.reduce((s, [, w]) => s + w, 0);
  const out: PlannedFault[] = [];
  let t = 0;
  while (t < seconds * 1000) {
    const gapMs = 2000 + Math.floor(rnd() * 2000);
    let r = rnd() * total;
    let role: Role = 'random';
    for (const [name, w] of roles) {
      if ((r -= w) < 0) {
        role = name;
        break;
      }
    }
    const pick = Math.floor(rnd() * 1000);
    const a = rnd();
    const action: Action = a < 0.45 ? 'kill' : a < 0.7 ? 'pause' : 'stop';
    const downMs = 1000 + Math.floor(rnd() * 2500);
    out.push({ gapMs, role, pick, action, downMs });
    t += gapMs + downMs;
  }
  return out;
}

function leaderOf(s: ClusterState, topic: string, partition: number): number {
  const t = s.topics.find((x) => x.name === topic);
  return t?.partitions[partition]?.leader ?? -1;
}

/** The broker a role names now (the leader of the internal partition that a group or transactional id hashes to). */
function target(s: ClusterState, role: Role, pick: number): number {
  const internal = (topic: string, key: string) => {
    const n = s.topics.find((x) => x.name === topic)?.partitions.length ?? 0;
    return n ? leaderOf(s, topic, offsetsPartitionFor(key, n)) : -1;
  };
  const ids = s.brokers.map((b) => b.id).sort((a, b) => a - b);
  const broker =
    role === 'txn-coordinator' ? internal('__transaction_state', `${TXN_PREFIX}-${pick % MEMBERS}`)
    : role === 'group-coordinator' ? internal('__consumer_offsets', GROUP)
    : role === 'input-leader' ? leaderOf(s, INPUT, pick % PARTITIONS)
    : role === 'output-leader' ? leaderOf(s, OUTPUT, pick % PARTITIONS)
    : ids[pick % ids.length];
  return ids.includes(broker) ? broker : ids[pick % ids.length];
}

function healthy(s: ClusterState): boolean {
  return s.brokers.every((b) => b.state === 'running' && !b.fenced) && fullIsr(s, INPUT) && fullIsr(s, OUTPUT) && INTERNAL.every((t) => !s.topics.some((x) => x.name === t) || fullIsr(s, t));
}

let cluster: TestCluster | undefined;

after(async () => {
  killDrivers();
  await cluster?.stop(KEEP);
});

describe(`exactly-once under failover: consume-transform-produce with transactions (seed ${SEED}, ${SECONDS} s)`, () => {
  test('the committed output holds each input record exactly once, in order', { timeout: (SECONDS + 240) * 1000 }, async () => {
    const t0 = Date.now();
    const progress: string[] = [];
    const note = (msg: string) => {
      progress.push(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
      if (process.env.EOS_VERBOSE === '1') console.log(progress[progress.length - 1]);
    };
    const findings: string[] = [];
    let logDir = '';
    const context = () =>
      `seed ${SEED} (EOS_SEED=${SEED} EOS_SECONDS=${SECONDS} EOS_TXN_TIMEOUT_MS=${TXN_TIMEOUT_MS} to replay)\n--- executed schedule ---\n${progress.join('\n')}\n` +
      `--- cluster log (tail) ---\n${cluster?.cli.output().split('\n').slice(-80).join('\n')}` + (logDir ? `\n(client logs kept in ${logDir})` : '');
    const waitState = async (cond: (s: ClusterState) => boolean, timeoutMs: number, what: string) => {
      const deadline = Date.now() + timeoutMs;
      let lastErr: unknown;
      while (Date.now() < deadline) {
        try {
          const s = await cluster!.state();
          if (cond(s)) return s;
        } catch (err) {
          lastErr = err;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (${(lastErr as Error).message})` : ''}`);
    };

    try {
      assert.ok(existsSync(PYTHON), `${PYTHON} not found: install python3 and python3-confluent-kafka`);
      // Timed-out transactions are looked for every second (Kafka's default: 10 s), for EOS_TXN_TIMEOUT_MS.
      cluster = await startTestCluster(['--config', 'min.insync.replicas=2', '--config', 'default.replication.factor=3', '--config', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=1000']);
      if (KEEP) mkdirSync((logDir = join(cluster.dir, 'eos-logs')), { recursive: true });
      const log = (name: string) => (logDir ? join(logDir, `${name}.jsonl`) : undefined);
      const bootstrap = cluster.bootstrap;
      for (const topic of [INPUT, OUTPUT]) {
        const create = await runCli(['topics', '--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', String(PARTITIONS), '--replication-factor', '3', '--config', 'min.insync.replicas=2']);
        assert.equal(create.code, 0, create.stderr);
      }
      await waitState((s) => fullIsr(s, INPUT) && fullIsr(s, OUTPUT), 20000, 'full ISRs of both topics');

      // The transformers' process; a 'transformer' fault kills it -9 (a client crash mid-transaction) and starts a
      // new one, whose producers (same transactional ids) fence the dead ones and abort what they left open.
      const transforms: PyProcess[] = [];
      const startTransform = () => {
        const t = spawnPython('eos_clients.py', 'transform', { bootstrap, input: INPUT, output: OUTPUT, group: GROUP, members: MEMBERS, partitions: PARTITIONS, transactionalIdPrefix: TXN_PREFIX, batch: 50, transactionTimeoutMs: TXN_TIMEOUT_MS }, log(`transform-${transforms.length}`));
        transforms.push(t);
        return t;
      };
      let transform = startTransform();
      const feed = spawnPython('chaos_clients.py', 'produce', { bootstrap, topic: INPUT, producers: 2, interval: 0.02, messageTimeoutMs: 120000, flushSeconds: 90 }, log('feed'));
      await transform.waitEvent((e) => e.e === 'txn', 60000, 'a first committed transaction');
      await waitState(healthy, 20000, 'the internal topics with full ISRs');
      const chaosStart = Date.now();
      note('first transaction committed; chaos starts');

      const faults: Array<{ at: number; what: string }> = [];
      for (const step of plan(SEED, SECONDS)) {
        if (Date.now() - chaosStart >= SECONDS * 1000) break;
        await new Promise((r) => setTimeout(r, step.gapMs));
        if (step.role === 'transformer') {
          const what = `kill -9 of the transformers' process, a new one after ${step.downMs} ms`;
          note(what);
          faults.push({ at: Date.now(), what });
          transform.kill();
          await transform.exited;
          await new Promise((r) => setTimeout(r, step.downMs));
          transform = startTransform();
          continue;
        }
        const broker = target(await cluster.state(), step.role, step.pick);
        const what = `${step.action} broker ${broker} (${step.role}${step.role === 'random' ? '' : ` ${step.pick % (step.role === 'txn-coordinator' ? MEMBERS : PARTITIONS)}`}) for ${step.downMs} ms`;
        note(what);
        faults.push({ at: Date.now(), what });
        try {
          await cluster.control.broker(broker, step.action);
          await new Promise((r) => setTimeout(r, step.downMs));
          await cluster.control.broker(broker, step.action === 'pause' ? 'resume' : 'restart');
          await waitState(healthy, HEAL_TIMEOUT_MS, `a healthy cluster after: ${what}`);
          note('healed');
        } catch (err) {
          findings.push(`fault "${what}": ${(err as Error).message}`);
          note(`NOT healed: ${(err as Error).message}`);
          break;
        }
      }
      note(`chaos over; ${faults.length} faults`);

      // The feed stops and flushes; the transformers drain the input to its end, then stop.
      feed.send('stop');
      await feed.waitEvent((e) => e.e === 'done', 120000, 'the end of the feed\'s flush');
      const input = spawnPython('chaos_clients.py', 'read', { bootstrap, topic: INPUT, partitions: PARTITIONS, timeoutSeconds: 60 }, log('read-input'));
      await input.waitEvent((e) => e.e === 'done', 90000, 'the end of the input read');
      const hi = input.events.filter((e) => e.e === 'watermarks').map((e) => [String(e.part), e.hi] as const);
      try {
        await transform.waitEvent((e) => e.e === 'observed' && !!e.offs && hi.every(([p, h]) => e.offs[p] === h), 90000, 'committed offsets at the input\'s end');
      } catch (err) {
        findings.push(`the group did not commit up to the input's end: ${(err as Error).message.split('\n')[0]}; input ends ${JSON.stringify(Object.fromEntries(hi))}`);
      }
      transform.send('stop');
      const final = await transform.waitEvent((e) => e.e === 'final', 120000, 'the final committed offsets');
      note('transformers stopped');
      const output = spawnPython('chaos_clients.py', 'read', { bootstrap, topic: OUTPUT, partitions: PARTITIONS, timeoutSeconds: 60 }, log('read-output'));
      await output.waitEvent((e) => e.e === 'done', 90000, 'the end of the output read');
      // Everything the log holds, aborted transactions included: what read_committed filtered out.
      const everything = spawnPython('chaos_clients.py', 'read', { bootstrap, topic: OUTPUT, partitions: PARTITIONS, timeoutSeconds: 60, isolation: 'read_uncommitted' }, log('read-output-uncommitted'));
      await everything.waitEvent((e) => e.e === 'done', 90000, 'the end of the read_uncommitted output read');
      await Promise.all([feed.exited, input.exited, output.exited, everything.exited]);

      for (const d of [feed, ...transforms, input, output, everything]) if (d.stderr().includes('Traceback')) findings.push(`a client driver raised:\n${d.stderr().slice(-2000)}`);
      const { problems, numbers } = checkExactlyOnce({ partitions: PARTITIONS, inputEvents: input.events, outputEvents: output.events, finalOffsets: final.offs });
      const transformEvents = transforms.flatMap((t) => t.events);
      const count = (kind: string) => transformEvents.filter((e: Ev) => e.e === kind).length;
      const txns = count('txn');
      if (txns < 20) problems.push(`only ${txns} transactions committed: the run did not exercise much`);
      if (faults.length < 3) problems.push(`only ${faults.length} faults injected`);
      const retries = new Map<string, number>();
      for (const e of transformEvents.filter((x) => x.e === 'retry')) retries.set(e.call, (retries.get(e.call) ?? 0) + 1);
      const summary = [
        `exactly-once seed ${SEED}, ${SECONDS} s, transaction.timeout.ms ${TXN_TIMEOUT_MS}`,
        `  input records     ${numbers.input}`,
        `  committed output  ${numbers.output}; missing ${numbers.missing}, duplicates ${numbers.duplicates}, out of order ${numbers.outOfOrder}, foreign ${numbers.wrong}`,
        `  aborted records   ${everything.events.filter((e) => e.e === 'rec').length - numbers.output} (in the log, filtered out by read_committed)`,
        `  transactions      ${txns} committed, ${count('abort')} aborted, ${count('fatal')} producers re-created, ${transforms.length - 1} transformer processes killed; retries ${[...retries].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
        `  rebalances        ${count('assign')} assignments`,
        `  faults            ${faults.length}: ${faults.map((f) => f.what.split(' for ')[0]).join('; ')}`,
      ].join('\n');
      console.log(summary);
      assert.deepEqual([...findings, ...problems], [], `${summary}\n${[...findings, ...problems].join('\n')}\n${context()}`);
    } catch (err) {
      if (err instanceof assert.AssertionError && err.message.includes('--- executed schedule ---')) throw err;
      throw new Error(`${(err as Error).stack ?? err}\n${context()}`);
    }
  });
});
