// acks=all with an idempotent librdkafka producer (Debian's kcat) while partition leaders crash: three broker
// processes, a topic with replication factor 3, two partitions and min.insync.replicas=2. In every round two kcat
// producers (one per partition, -p) send keyed, numbered messages with `-X acks=all -X enable.idempotence=true`
// while the leader of one partition is killed with kill -9 (control endpoint), a new leader takes over, and the
// dead broker is restarted and catches up. kcat reports each delivery at verbosity 3 ("Message delivered to
// partition P (offset O)", or "Delivery failed ...") in production order, so the k-th report is the k-th
// message. Then `kcat -C -e -o beginning -f '%p %o %k %s\n'` reads everything back, and every acknowledged message
// must be there, at the offset it was acknowledged with, once, in order within its partition.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAckedReadBack } from '../helpers/acks';
import { runCli } from '../helpers/cli';
import { bounceLeader, fullIsr, startTestCluster, TestCluster } from '../helpers/cluster';
import { describeKcat, requireKcat, runKcat, spawnKcat } from '../helpers/kcat';

const TOPIC = 'kcat-acks-all';
const ROUNDS = 6;
/** One message per partition every this many ms while a round runs. */
const SEND_EVERY_MS = 15;
/**
 * kcat reads stdin 128 bytes at a time and hands out one message per read, so lines shorter than that fall
 * further and further behind (everything would only be sent at EOF, after the crash). Padded lines are produced
 * as they are written.
 */
const PAD = 'x'.repeat(160);

let cluster: TestCluster;

before(async () => {
  requireKcat();
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.stop();
});

interface Sent {
  partition: number;
  n: number;
  key: string;
  value: string;
}

interface Acked extends Sent {
  offset: number;
}

const DELIVERED = /^% Message delivered to partition (\d+) \(offset (-?\d+)\)/;
const FAILED = /^% Delivery failed for message: (.*)$/;

/** The delivery reports kcat printed, in order: an offset, or the error of a failed delivery. */
function deliveryReports(stderr: string): Array<{ partition: number; offset: number } | { error: string }> {
  const out: Array<{ partition: number; offset: number } | { error: string }> = [];
  for (const line of stderr.split('\n')) {
    const ok = DELIVERED.exec(line);
    if (ok) out.push({ partition: Number(ok[1]), offset: Number(ok[2]) });
    const failed = FAILED.exec(line);
    if (failed) out.push({ error: failed[1] });
  }
  return out;
}

describe('kcat acks=all, idempotent, under leader crashes', () => {
  test('every acknowledged message is read back at its offset, once, in order', { timeout: 150000 }, async () => {
    const started = Date.now();
    const create = await runCli(['topics', '--bootstrap-server', cluster.bootstrap, '--create', '--topic', TOPIC, '--partitions', '2', '--replication-factor', '3', '--config', 'min.insync.replicas=2']);
    assert.equal(create.code, 0, create.stderr);
    await cluster.waitForState((s) => fullIsr(s, TOPIC), 15000, 'full ISR');

    const next = [0, 0]; // message number per partition, increasing across rounds
    const sent: Sent[] = [];
    const acked: Acked[] = [];
    const failures: string[] = [];
    const victims: number[] = [];
    const outageAcks: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const producers = [0, 1].map((partition) => {
        const args = ['-b', cluster.bootstrap, '-P', '-t', TOPIC, '-p', String(partition), '-K', ':', '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'message.timeout.ms=30000', '-v', '-v', '-v'];
        const kcat = spawnKcat(args, 90000);
        // When each delivery report arrives (kcat writes them to unbuffered stderr as librdkafka hands them over).
        const reportTimes: number[] = [];
        let partial = '';
        kcat.child.stderr!.on('data', (d: Buffer) => {
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop()!;
          for (const line of lines) if (DELIVERED.test(line)) reportTimes.push(Date.now());
        });
        return { partition, args, kcat, sent: [] as Sent[], reportTimes };
      });
      let feeding = true;
      const feeder = (async () => {
        while (feeding) {
          for (const p of producers) {
            const n = next[p.partition]++;
            const m = { partition: p.partition, n, key: `k${p.partition}-${n}`, value: `p${p.partition}-r${round}-n${n}-${PAD}` };
            p.sent.push(m);
            p.kcat.write(`${m.key}:${m.value}\n`);
          }
          await new Promise((r) => setTimeout(r, SEND_EVERY_MS));
        }
      })();
      // Messages flow before, during and after the crash of one partition's leader.
      await new Promise((r) => setTimeout(r, 400));
      const bounce = await bounceLeader(cluster, TOPIC, round % 2, { downMs: 800 });
      victims.push(bounce.victim);
      await new Promise((r) => setTimeout(r, 300));
      feeding = false;
      await feeder;
      for (const p of producers) p.kcat.end();
      for (const p of producers) {
        const result = await p.kcat.done;
        const reports = deliveryReports(result.stderr);
        assert.equal(reports.length, p.sent.length, `round ${round}, partition ${p.partition}: ${reports.length} delivery reports for ${p.sent.length} messages\n${describeKcat(p.args, result)}`);
        reports.forEach((r, k) => {
          const m = p.sent[k];
          if ('error' in r) failures.push(`${m.value}: ${r.error}`);
          else {
            assert.equal(r.partition, p.partition);
            acked.push({ ...m, offset: r.offset });
          }
        });
        // kcat exits 1 when a delivery failed; anything else is a crash or a fatal producer error.
        assert.ok(result.code === 0 || (result.code === 1 && reports.some((r) => 'error' in r)), `round ${round}: exit code ${result.code}\n${describeKcat(p.args, result)}`);
        sent.push(...p.sent);
      }
      // The crash happened under load: the killed partition's producer had messages acknowledged by the new
      // leader while the old one was down (a delivery report can lag its acknowledgement by a few lines).
      const hit = producers[round % 2];
      const duringOutage = hit.reportTimes.filter((t) => t > bounce.electedAt + 100 && t < bounce.restartAt).length;
      assert.ok(duringOutage > 0, `round ${round}: no acknowledgement on partition ${round % 2} while broker ${bounce.victim} was down`);
      outageAcks.push(duringOutage);
    }
    assert.equal(victims.length, ROUNDS);
    assert.ok(acked.length > sent.length / 2, `only ${acked.length} of ${sent.length} messages acknowledged; failures: ${failures.slice(0, 5).join('; ')}`);

    const read = await runKcat(['-b', cluster.bootstrap, '-C', '-t', TOPIC, '-e', '-o', 'beginning', '-f', '%p %o %k %s\\n'], '', 60000);
    assert.equal(read.code, 0, describeKcat(['-C'], read));
    const log = new Map<number, Map<number, { key: string; value: string }>>([[0, new Map()], [1, new Map()]]);
    const inOrder: Array<{ partition: number; offset: number; key: string; value: string }> = [];
    for (const line of read.stdout.split('\n')) {
      if (!line) continue;
      const m = /^(\d+) (\d+) (\S*) (\S*)$/.exec(line);
      assert.ok(m, `unexpected kcat output line: ${line}`);
      const rec = { partition: Number(m[1]), offset: Number(m[2]), key: m[3], value: m[4] };
      log.get(rec.partition)!.set(rec.offset, rec);
      inOrder.push(rec);
    }

    // 1. Every acknowledged message is in the log at the very offset it was acknowledged with.
    const lost = acked.filter((a) => {
      const at = log.get(a.partition)!.get(a.offset);
      return !at || at.key !== a.key || at.value !== a.value;
    });
    assert.deepEqual(
      lost.slice(0, 10).map((a) => `${a.value} acknowledged at ${a.partition}@${a.offset}, found ${JSON.stringify(log.get(a.partition)!.get(a.offset) ?? null)}`),
      [],
      `${lost.length} of ${acked.length} acknowledged messages lost or moved`,
    );
    // 2. No duplicates: the idempotent producer's retries were deduplicated by the brokers.
    const seen = new Map<string, number>();
    for (const r of inOrder) seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
    const dups = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(dups.slice(0, 10), [], `${dups.length} messages written more than once`);
    // 3. Order: within a partition the log holds the messages in the order they were produced (acknowledged or not).
    for (const partition of [0, 1]) {
      const ns = inOrder.filter((r) => r.partition === partition).map((r) => Number(/-n(\d+)-/.exec(r.value)![1]));
      const inversion = ns.findIndex((n, i) => i > 0 && n <= ns[i - 1]);
      assert.equal(inversion, -1, `partition ${partition}: message n${ns[inversion]} follows n${ns[inversion - 1]}`);
    }
    // 4. The shared acks=all check, as the kafkajs failover test makes it.
    assertAckedReadBack(acked, inOrder);
    // Nothing was read that was never sent.
    const sentValues = new Set(sent.map((m) => m.value));
    assert.deepEqual(inOrder.filter((r) => !sentValues.has(r.value)).slice(0, 5), []);
    console.log(`kcat acks=all: ${sent.length} sent, ${acked.length} acknowledged, ${failures.length} failed, ${inOrder.length} in the log; brokers killed: ${victims.join(', ')}; acknowledged while the leader was down: ${outageAcks.join(', ')}; ${Date.now() - started} ms`);
  });
});
