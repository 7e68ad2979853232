// The tail pipeline's transaction bookkeeping on a fed stream: read_uncommitted rows wait as 'open' for their
// (partition, producer) marker; rows already posted get the outcome in the next batch, rows not yet posted go out
// settled; another producer's or partition's rows are left alone; nothing piles up while no page is attached.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedRecord, RecordStream } from '../../../src/client/consumer';
import { TailPipeline } from '../../../src/extension/panels/tailPipeline';
import { applyOutcome, TailBatch, TailRow } from '../../../src/shared/tailProtocol';

function fedStream() {
  const queue: ConsumedRecord[] = [];
  const waiters: Array<(r: ConsumedRecord | undefined) => void> = [];
  let stopped = false;
  const stream: RecordStream = {
    next: (o) =>
      new Promise((resolve) => {
        const r = queue.shift();
        if (r || stopped) return resolve(r);
        waiters.push(resolve);
        if (o?.timeoutMs)
          setTimeout(() => {
            const i = waiters.indexOf(resolve);
            if (i >= 0) {
              waiters.splice(i, 1);
              resolve(undefined);
            }
          }, o.timeoutMs);
      }),
    get stopped() {
      return stopped;
    },
    stop: async () => {
      stopped = true;
      for (const w of waiters.splice(0)) w(undefined);
    },
    async *[Symbol.asyncIterator]() {},
  };
  const feed = (r: ConsumedRecord) => {
    const w = waiters.shift();
    if (w) w(r);
    else queue.push(r);
  };
  return { stream, feed };
}

const rec = (partition: number, offset: number, producerId: string, extra: Partial<ConsumedRecord> = {}): ConsumedRecord => ({
  topic: 't',
  partition,
  offset: String(offset),
  timestamp: '1',
  key: null,
  value: Buffer.from(`v${offset}`),
  headers: {},
  transactional: true,
  producerId,
  ...extra,
});
const marker = (partition: number, offset: number, producerId: string, control: 'COMMIT' | 'ABORT') => rec(partition, offset, producerId, { value: null, control });
const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));
const states = (rows: TailRow[]) => rows.map((r) => `${r.partition}:${r.offset} ${r.control ?? r.txn?.state ?? 'plain'}`);

describe('tail pipeline: transactions', () => {
  it('settles open rows by their marker, in place before posting and by an outcome after', async () => {
    const fed = fedStream();
    const page: TailRow[] = [];
    const batches: TailBatch[] = [];
    const p = new TailPipeline({
      connection: { bootstrapServers: ['x:1'] },
      topic: 't',
      bufferSize: 100,
      batchIntervalMs: 20,
      open: async () => fed.stream,
      sink: (b) => {
        batches.push(b);
        page.push(...(JSON.parse(JSON.stringify(b.rows)) as TailRow[]));
        for (const o of b.outcomes ?? []) applyOutcome(page, o);
      },
    });
    try {
      p.attach(true);
      await p.start({ start: { kind: 'earliest' }, isolation: 'read_uncommitted' });
      // Producer 7 on partition 0: two records and its ABORT in one go (settled before posting).
      fed.feed(rec(0, 0, '7'));
      fed.feed(rec(0, 1, '7'));
      fed.feed(marker(0, 2, '7', 'ABORT'));
      await settle();
      assert.deepEqual(states(page), ['0:0 aborted', '0:1 aborted', '0:2 ABORT']);
      assert.ok(batches.every((b) => !b.outcomes), 'nothing to tell the page: the rows went out settled');
      // Producer 8 on partition 0 and producer 7 on partition 1 stay open while producer 8 commits later.
      fed.feed(rec(0, 3, '8'));
      fed.feed(rec(1, 0, '7'));
      fed.feed({ topic: 't', partition: 0, offset: '4', timestamp: '1', key: null, value: Buffer.from('plain'), headers: {} });
      await settle();
      assert.deepEqual(states(page).slice(3), ['0:3 open', '1:0 open', '0:4 plain']);
      fed.feed(marker(0, 5, '8', 'COMMIT'));
      await settle();
      assert.deepEqual(states(page).slice(3), ['0:3 committed', '1:0 open', '0:4 plain', '0:5 COMMIT']);
      assert.deepEqual(batches.flatMap((b) => b.outcomes ?? []), [{ partition: 0, producerId: '8', outcome: 'committed', markerOffset: '5' }]);
      // The host's ring agrees with the page.
      assert.deepEqual(states(p.ring.toArray()), states(page));

      // Detached: a marker settles the ring's rows, and no outcome waits for a page that is gone.
      p.attach(false);
      fed.feed(marker(1, 1, '7', 'ABORT'));
      await settle();
      assert.deepEqual(states(p.attach(true)).slice(4, 5), ['1:0 aborted']);
      await settle();
      assert.ok(batches.every((b) => !(b.outcomes ?? []).some((o) => o.partition === 1)), 'the re-attached page got the settled ring instead');
    } finally {
      await p.dispose();
    }
  });

  it('read_committed: transactional rows are committed at once and nothing is tracked', async () => {
    const fed = fedStream();
    const page: TailRow[] = [];
    const p = new TailPipeline({ connection: { bootstrapServers: ['x:1'] }, topic: 't', bufferSize: 100, batchIntervalMs: 20, open: async () => fed.stream, sink: (b) => page.push(...b.rows) });
    try {
      p.attach(true);
      await p.start({ start: { kind: 'earliest' } });
      fed.feed(rec(0, 0, '9'));
      fed.feed(marker(0, 1, '9', 'COMMIT'));
      await settle();
      assert.deepEqual(states(page), ['0:0 committed', '0:1 COMMIT']);
    } finally {
      await p.dispose();
    }
  });
});
