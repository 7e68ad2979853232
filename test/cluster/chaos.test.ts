// Chaos (issue 10): Kafka's promises under faults, with real processes and real librdkafka clients. A 3-broker
// mini-cluster, a topic with 6 partitions, replication factor 3 and min.insync.replicas=2; three idempotent
// acks=all confluent-kafka producers (librdkafka 2.0.2) and a consumer group of two confluent-kafka consumers
// committing synchronously after every batch, all driven by test/cluster/chaos_clients.py under Debian's
// /usr/bin/python3. Meanwhile a seeded random schedule (CHAOS_SEED, CHAOS_SECONDS) kills -9, pauses, stops
// (controlled shutdown) and restarts brokers, one at a time, healing each fault (full ISR) before the next, with
// extra weight on the broker leading most partitions, the group coordinator and the controller (the broker the
// metadata names, and the supervisor's controller itself through POST /v1/controller/kill when the control
// endpoint has that route). Afterwards the producers flush, the group drains to the end, a fresh reader reads
// every partition from offset 0, and the test checks: every acknowledged record is in the log exactly at the
// offset its delivery report gave; no key is in the log twice; per producer and partition the sequence numbers
// increase; no fatal producer error; committed offsets never move backwards (as committed, as observed with
// OffsetFetch every 0.5 s, and at the end); the group consumed every offset of the log (re-delivery allowed) and
// what it consumed is still what the log holds; the group's final committed offsets are the log end. It prints
// a summary table (with the longest gap between successive acknowledgements: the unavailability clients saw).
//
// CHAOS_SEED (default 1), CHAOS_SECONDS (default 60) and CHAOS_KEEP=1 (keep the cluster's dir and the client
// logs) are read from the environment. A failure names the seed, the executed schedule and the cluster log tail.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ControlClient, readControlInfo } from '../../src/broker/cluster/controlClient';
import type { ClusterState } from '../../src/broker/cluster/supervisor';
import { offsetsPartitionFor } from '../../src/broker/groups/offsetsRecords';
import { runCli } from '../helpers/cli';
import { checkChaos, ExecutedFault, Role } from '../helpers/chaos';
import { fullIsr, startTestCluster, TestCluster } from '../helpers/cluster';
import { killDrivers, PyProcess, prng, PYTHON, spawnPython } from '../helpers/python';

const SEED = Number(process.env.CHAOS_SEED ?? 1);
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const KEEP = process.env.CHAOS_KEEP === '1';
/** Extra broker settings, e.g. CHAOS_EXTRA_CONFIG="log.roll.ms=1000 log.cleaner.backoff.ms=200" to compact __consumer_offsets under the faults. */
const EXTRA_CONFIG = (process.env.CHAOS_EXTRA_CONFIG ?? '').split(/\s+/).filter(Boolean).flatMap((c) => ['--config', c]);
/** The Python client drivers (test/helpers/python.ts runs them). */
const DRIVER = 'chaos_clients.py';
const TOPIC = 'chaos';
const PARTITIONS = 6;
const GROUP = 'chaos-group';
const OFFSETS_TOPIC = '__consumer_offsets';
const PRODUCERS = 3;
/** Each producer sends one message every this many seconds. */
const SEND_INTERVAL_S = 0.02;
/** A fault must be healed (broker back, every ISR full) within this long, or the run fails. */
const HEAL_TIMEOUT_MS = 30000;

// ---------------------------------------------------------------------------------------------------------------
// The seeded schedule

type Action = 'kill' | 'pause' | 'stop';

interface PlannedFault {
  gapMs: number;
  role: Role;
  /** For role 'random'. */
  pick: number;
  action: Action;
  /** How long the broker stays down (killed, paused, stopped) before it is restarted or resumed. */
  downMs: number;
}

function plan(seed: number, seconds: number): PlannedFault[] {
  const rnd = prng(seed);
  const roles: Array<[Role, number]> = [['random', 3], ['most-leaders', 2], ['coordinator', 2], ['controller-broker', 1], ['controller-kill', 1]];
  const total = roles.reduce((s, [, w]) => s + w, 0);
  const out: PlannedFault[] = [];
  let t = 0;
  while (t < seconds * 1000) {
    const gapMs = 3000 + Math.floor(rnd() * 3000);
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
    const action: Action = a < 0.4 ? 'kill' : a < 0.7 ? 'pause' : 'stop';
    const downMs = action === 'pause' ? 1000 + Math.floor(rnd() * 2000) : 1000 + Math.floor(rnd() * 3000);
    out.push({ gapMs, role, pick, action, downMs });
    t += gapMs + downMs;
  }
  return out;
}

/** Waits for p, but no longer than ms (its timer does not keep the process alive afterwards). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The control endpoint, re-read from control.json at every call (a controller kill may move it)

let cluster: TestCluster | undefined;
const brokerPids = new Set<number>();
/** Supervisors seen in control.json: after a controller kill the new one is started by a broker, not by the test. */
const supervisorPids = new Set<number>();

function control(): ControlClient {
  const c = ControlClient.forDir(cluster!.dir);
  if (c.info.pid) supervisorPids.add(c.info.pid);
  return c;
}

async function stateNow(): Promise<ClusterState> {
  const s = await control().state();
  for (const b of s.brokers) if (b.pid) brokerPids.add(b.pid);
  return s;
}

/** Polls the cluster state (tolerating a supervisor that is briefly unreachable) until cond holds. */
async function waitState(cond: (s: ClusterState) => boolean, timeoutMs: number, what: string): Promise<ClusterState> {
  const deadline = Date.now() + timeoutMs;
  let last: ClusterState | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await stateNow();
      if (cond(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: brokers ${JSON.stringify(last?.brokers.map((b) => ({ id: b.id, state: b.state, fenced: b.fenced })))} ` +
    `partitions ${JSON.stringify(last?.topics.find((t) => t.name === TOPIC)?.partitions.map((p) => ({ l: p.leader, isr: p.isr })))}${lastErr ? `; last error: ${(lastErr as Error).message}` : ''}`);
}

function healthy(s: ClusterState): boolean {
  return s.brokers.every((b) => b.state === 'running' && !b.fenced) && fullIsr(s, TOPIC) && (!s.topics.some((t) => t.name === OFFSETS_TOPIC) || fullIsr(s, OFFSETS_TOPIC));
}

/** POST /v1/controller/kill: 'unsupported' when the supervisor has no such route (404). */
function killController(): Promise<'ok' | 'unsupported'> {
  const info = readControlInfo(cluster!.dir);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: info.port, method: 'POST', path: '/v1/controller/kill', headers: { authorization: `Bearer ${info.token}` }, timeout: 10000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 404 ? 'unsupported' : 'ok'));
    });
    req.on('timeout', () => req.destroy(new Error('POST /v1/controller/kill: no answer within 10 s')));
    // The supervisor may die before it answers: that is what was asked for.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'ECONNREFUSED' ? resolve('ok') : reject(err)));
    req.end();
  });
}

function leaderCounts(s: ClusterState): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of s.topics.find((t) => t.name === TOPIC)?.partitions ?? []) m.set(p.leader, (m.get(p.leader) ?? 0) + 1);
  return m;
}

function coordinatorOf(s: ClusterState): number {
  const t = s.topics.find((x) => x.name === OFFSETS_TOPIC);
  if (!t) return -1;
  return t.partitions[offsetsPartitionFor(GROUP, t.partitions.length)]?.leader ?? -1;
}

// ---------------------------------------------------------------------------------------------------------------

async function cleanup(): Promise<void> {
  const started = Date.now();
  killDrivers();
  if (!cluster) return;
  const verbose = process.env.CHAOS_VERBOSE === '1';
  try {
    await within(control().shutdown(), 5000);
  } catch {
    // already gone
  }
  if (verbose) console.log(`cleanup: shutdown asked after ${Date.now() - started} ms`);
  await cluster.stop(KEEP);
  if (verbose) console.log(`cleanup: supervisor exited after ${Date.now() - started} ms`);
  // A supervisor killed by a controller kill leaves brokers that are not the test's children; they carry the
  // cluster's dir on their command line.
  for (const pid of [...supervisorPids, ...brokerPids]) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(cluster.dir) || (supervisorPids.has(pid) && pid !== cluster.cli.child.pid && cmdline.includes('cli'))) process.kill(pid, 'SIGKILL');
    } catch {
      // exited
    }
  }
}

after(cleanup);

describe(`chaos: idempotent acks=all producers and a consumer group under a seeded fault schedule (seed ${SEED}, ${SECONDS} s)`, () => {
  test('no acknowledged record lost, duplicated or reordered; committed offsets never move back; the group skips nothing', { timeout: (SECONDS + 200) * 1000 }, async () => {
    const t0 = Date.now();
    const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
    const progress: string[] = [];
    const note = (msg: string) => {
      progress.push(`[${since()}] ${msg}`);
      if (process.env.CHAOS_VERBOSE === '1') console.log(`[${since()}] ${msg}`);
    };
    const schedule = plan(SEED, SECONDS);
    const executed: ExecutedFault[] = [];
    const findings: string[] = [];
    let logDir = '';

    const context = () =>
      `seed ${SEED} (CHAOS_SEED=${SEED} CHAOS_SECONDS=${SECONDS} to replay)\n--- executed schedule ---\n${progress.join('\n')}\n` +
      `--- cluster log (tail) ---\n${cluster?.cli.output().split('\n').slice(-80).join('\n')}` + (logDir ? `\n(client logs kept in ${logDir})` : '');

    try {
      assert.ok(existsSync(PYTHON), `${PYTHON} not found: install python3 and python3-confluent-kafka`);
      cluster = await startTestCluster(['--config', 'min.insync.replicas=2', '--config', 'default.replication.factor=3', ...EXTRA_CONFIG]);
      if (KEEP) {
        logDir = join(cluster.dir, 'chaos-logs');
        mkdirSync(logDir, { recursive: true });
      }
      const bootstrap = cluster.bootstrap;
      const create = await runCli(['topics', '--bootstrap-server', bootstrap, '--create', '--topic', TOPIC, '--partitions', String(PARTITIONS), '--replication-factor', '3', '--config', 'min.insync.replicas=2']);
      assert.equal(create.code, 0, create.stderr);
      await waitState((s) => fullIsr(s, TOPIC), 20000, 'full ISR of the topic');

      // The group first (it creates __consumer_offsets), then the producers.
      const consumers = spawnPython(DRIVER, 'consume', { bootstrap, topic: TOPIC, group: GROUP, members: 2, partitions: PARTITIONS }, logDir && join(logDir, 'consume.jsonl'));
      const assigned = new Set<number>();
      await consumers.waitEvent((e) => {
        if (e.e === 'assign' && e.parts.length > 0) assigned.add(e.m);
        return assigned.size === 2;
      }, 60000, 'assignment to both members');
      await waitState((s) => healthy(s) && coordinatorOf(s) >= 0, 20000, 'the offsets topic with a full ISR');
      note(`group assigned; coordinator is broker ${coordinatorOf(await stateNow())}`);
      const producers = spawnPython(DRIVER, 'produce', { bootstrap, topic: TOPIC, producers: PRODUCERS, interval: SEND_INTERVAL_S, messageTimeoutMs: 120000, flushSeconds: 90 }, logDir && join(logDir, 'produce.jsonl'));
      await producers.waitEvent((e) => e.e === 'dr' && e.err === null, 30000, 'a first acknowledgement');
      const produceStart = Date.now();
      note('producers acknowledged; chaos starts');

      // ---- the schedule -----------------------------------------------------------------------------------
      let controllerKillSupported: boolean | undefined;
      const faultsByKind = new Map<string, number>();
      for (const step of schedule) {
        if (Date.now() - produceStart >= SECONDS * 1000) break;
        await new Promise((r) => setTimeout(r, step.gapMs));
        const s = await stateNow();
        const ids = s.brokers.map((b) => b.id).sort((a, b) => a - b);
        let broker: number;
        let role = step.role;
        if (role === 'controller-kill') {
          if (controllerKillSupported !== false) {
            const at = Date.now();
            const r = await killController();
            if (r === 'ok') {
              controllerKillSupported = true;
              note(`kill -9 of the controller (supervisor) via POST /v1/controller/kill`);
              faultsByKind.set('controller-kill', (faultsByKind.get('controller-kill') ?? 0) + 1);
              const f: ExecutedFault = { at, role, action: 'controller-kill', broker: -1, downMs: 0 };
              executed.push(f);
              try {
                await waitState(healthy, HEAL_TIMEOUT_MS, 'a healthy cluster after the controller kill');
                f.healedAt = Date.now();
                note(`healed after ${f.healedAt - at} ms`);
              } catch (err) {
                findings.push(`cluster did not heal after controller kill: ${(err as Error).message}`);
                note(`NOT healed: ${(err as Error).message}`);
                break;
              }
              continue;
            }
            controllerKillSupported = false;
            note('controller kill skipped: the control endpoint has no POST /v1/controller/kill (404); the metadata controller broker is targeted instead');
          } else {
            note('controller kill skipped (unsupported); the metadata controller broker is targeted instead');
          }
          faultsByKind.set('controller-kill-skipped', (faultsByKind.get('controller-kill-skipped') ?? 0) + 1);
          role = 'controller-broker';
        }
        if (role === 'most-leaders') {
          const counts = leaderCounts(s);
          broker = ids.reduce((best, id) => ((counts.get(id) ?? 0) > (counts.get(best) ?? 0) ? id : best), ids[0]);
        } else if (role === 'coordinator') broker = coordinatorOf(s);
        else if (role === 'controller-broker') broker = s.controllerId;
        else broker = ids[step.pick % ids.length];
        if (!ids.includes(broker)) broker = ids[step.pick % ids.length];
        const counts = leaderCounts(s);
        const what = `${step.action} broker ${broker} (${role}; leads ${counts.get(broker) ?? 0}/${PARTITIONS}${coordinatorOf(s) === broker ? ', coordinator' : ''}${s.controllerId === broker ? ', controller' : ''}) for ${step.downMs} ms`;
        note(what);
        const f: ExecutedFault = { at: Date.now(), role, action: step.action, broker, downMs: step.downMs };
        executed.push(f);
        faultsByKind.set(step.action, (faultsByKind.get(step.action) ?? 0) + 1);
        try {
          const c = control();
          await c.broker(broker, step.action);
          await new Promise((r) => setTimeout(r, step.downMs));
          await control().broker(broker, step.action === 'pause' ? 'resume' : 'restart');
          await waitState(healthy, HEAL_TIMEOUT_MS, `a healthy cluster after: ${what}`);
          f.healedAt = Date.now();
          note(`healed ${f.healedAt - f.at - step.downMs} ms after the ${step.action === 'pause' ? 'resume' : 'restart'}`);
        } catch (err) {
          findings.push(`fault "${what}": ${(err as Error).message}`);
          note(`NOT healed: ${(err as Error).message}`);
          break;
        }
      }
      const chaosEnd = Date.now();
      note(`chaos over after ${((chaosEnd - produceStart) / 1000).toFixed(1)} s; ${executed.length} faults`);

      // ---- drain ----------------------------------------------------------------------------------------
      // A few seconds of quiet production, then the producers stop and flush.
      await new Promise((r) => setTimeout(r, 2000));
      producers.send('stop');
      const stopping = await producers.waitEvent((e) => e.e === 'stopping', 10000, 'stopping');
      await producers.waitEvent((e) => e.e === 'done', 120000, 'the end of the flush');
      await producers.exited;
      note('producers flushed');

      const reader = spawnPython(DRIVER, 'read', { bootstrap, topic: TOPIC, partitions: PARTITIONS, timeoutSeconds: 60 }, logDir && join(logDir, 'read.jsonl'));
      const readDone = await reader.waitEvent((e) => e.e === 'done', 90000, 'the end of the read');
      await reader.exited;
      const hi = new Map<number, number>();
      const lo = new Map<number, number>();
      for (const e of reader.events.filter((x) => x.e === 'watermarks')) {
        hi.set(e.part, e.hi);
        lo.set(e.part, e.lo);
      }
      // Let the group drain to the log end: its committed offsets (as observed) reach the high watermarks.
      const lastObserved = () => [...consumers.events].reverse().find((e) => e.e === 'observed' && e.offs)?.offs as Record<string, number> | undefined;
      try {
        await consumers.waitEvent((e) => e.e === 'observed' && !!e.offs && [...hi].every(([p, h]) => e.offs[String(p)] === h), 60000, 'committed offsets at the log end');
      } catch (err) {
        findings.push(`the group did not commit up to the log end within 60 s: observed ${JSON.stringify(lastObserved())}, log end ${JSON.stringify(Object.fromEntries(hi))}`);
      }
      consumers.send('stop');
      const final = await consumers.waitEvent((e) => e.e === 'final', 60000, 'the final committed offsets');
      await within(consumers.exited, 15000);
      consumers.kill();

      // ---- checks ---------------------------------------------------------------------------------------
      const driverErrors = [producers, consumers, reader].map((x) => x.stderr()).filter((e) => e.includes('Traceback'));
      for (const e of driverErrors) findings.push(`a client driver raised:\n${e.slice(-2000)}`);
      const { summary, problems } = checkChaos({
        title: `chaos seed ${SEED}, ${SECONDS} s, cli ${process.env.MINIKAFKA_CLI ?? 'dist/cli.js'}`,
        partitions: PARTITIONS,
        t0,
        producerEvents: producers.events,
        consumerEvents: consumers.events,
        readerEvents: reader.events,
        executed,
        faultsByKind,
        findings,
      });
      console.log(summary);
      assert.deepEqual(problems, [], `${summary}\n${problems.join('\n')}\n${context()}`);
    } catch (err) {
      if (err instanceof assert.AssertionError && err.message.includes('--- executed schedule ---')) throw err;
      throw new Error(`${(err as Error).stack ?? err}\n${context()}`);
    }
  });
});
