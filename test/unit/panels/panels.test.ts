// The panels' vscode-free parts in plain Node: the message endpoint (correlation, error replies), the ring, the
// templates, CSV/JSON export, a producer run against a fake sender, and the tail pipeline against a fake stream
// (bounded ring, batches, pause holding records, skipped counts).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ConsumedRecord, RecordStream } from '../../../src/client/consumer';
import type { DeliveryReport, OutgoingRecord } from '../../../src/client/producer';
import { runProduce } from '../../../src/extension/panels/producerRun';
import { decodeField, toTailRow } from '../../../src/extension/panels/records';
import { csvCell, toCsv, toJson } from '../../../src/extension/panels/tailExport';
import { TailPipeline } from '../../../src/extension/panels/tailPipeline';
import { command, IpcEndpoint, IpcMessage, notification, request } from '../../../src/shared/ipc';
import { ProduceForm } from '../../../src/shared/producerProtocol';
import { RingBuffer } from '../../../src/shared/ring';
import { TailBatch, TailRow } from '../../../src/shared/tailProtocol';
import { expandTemplate, unknownVariables } from '../../../src/shared/template';

function pair(): [IpcEndpoint, IpcEndpoint] {
  let a!: IpcEndpoint;
  let b!: IpcEndpoint;
  // Asynchronous delivery, like postMessage.
  a = new IpcEndpoint({ post: (m) => setImmediate(() => b.handle(structuredClone(m))) });
  b = new IpcEndpoint({ post: (m) => setImmediate(() => a.handle(structuredClone(m))) });
  return [a, b];
}

describe('IpcEndpoint', () => {
  const Add = request<{ x: number; y: number }, number>('add');
  const Fail = request<void, void>('fail');
  const Ping = command<string>('ping');
  const Note = notification<number>('note');

  it('correlates concurrent requests with their replies', async () => {
    const [page, host] = pair();
    host.onRequest(Add, async ({ x, y }) => {
      await new Promise((r) => setTimeout(r, x)); // answers out of order
      return x + y;
    });
    const results = await Promise.all([page.request(Add, { x: 30, y: 1 }), page.request(Add, { x: 1, y: 1 }), page.request(Add, { x: 10, y: 5 })]);
    assert.deepEqual(results, [31, 2, 15]);
  });

  it('turns a thrown error into an error reply with its message, and unknown methods into errors', async () => {
    const [page, host] = pair();
    host.onRequest(Fail, () => {
      throw new Error('the topic does not exist');
    });
    await assert.rejects(page.request(Fail, undefined), /the topic does not exist/);
    await assert.rejects(page.request(request<void, void>('nope'), undefined), /unknown request nope/);
  });

  it('delivers commands and notifications to their handlers only', async () => {
    const [page, host] = pair();
    const got: unknown[] = [];
    host.on(Ping, (s) => got.push(`ping ${s}`));
    page.on(Note, (n) => got.push(n));
    page.send(Ping, 'a');
    host.send(Note, 7);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['ping a', 7]);
  });

  it('times out and rejects pending requests when the other side goes away', async () => {
    const sent: IpcMessage[] = [];
    const lonely = new IpcEndpoint({ post: (m) => sent.push(m) });
    await assert.rejects(lonely.request(Add, { x: 1, y: 2 }, 30), /no answer within 30 ms/);
    const pending = lonely.request(Add, { x: 1, y: 2 });
    lonely.rejectPending('the panel was hidden');
    await assert.rejects(pending, /hidden/);
    assert.equal(sent.length, 2);
    assert.equal(lonely.handle({ nonsense: true }), false);
  });
});

describe('RingBuffer', () => {
  it('keeps the newest entries and reports what fell out', () => {
    const r = new RingBuffer<number>(3);
    assert.equal(r.push(1), undefined);
    r.push(2);
    r.push(3);
    assert.equal(r.push(4), 1);
    assert.deepEqual(r.toArray(), [2, 3, 4]);
    assert.equal(r.at(0), 2);
    assert.equal(r.last(), 4);
    r.resize(2);
    assert.deepEqual([...r], [3, 4]);
  });
});

describe('templates', () => {
  it('expands per record and leaves unknown variables alone', () => {
    const ctx = { i: 4, count: 10, now: 1_700_000_000_000, uuid: () => 'u-1' };
    assert.equal(expandTemplate('{"n": {{i}}, "m": {{ n }}, "of": {{count}}, "id": "{{uuid}}", "t": {{timestamp}}, "x": "{{idx}}"}', ctx), '{"n": 4, "m": 5, "of": 10, "id": "u-1", "t": 1700000000000, "x": "{{idx}}"}');
    assert.deepEqual(unknownVariables('{{i}} {{idx}} {{uuid}} {{Foo}}'), ['idx', 'Foo']);
  });
});

describe('export', () => {
  const row: TailRow = { seq: 1, partition: 2, offset: '41', timestamp: '1700000000000', key: '=cmd()', value: 'a,"b"\nc', headers: [['h', 'v']] };
  it('writes RFC 4180 CSV and defuses formulas', () => {
    assert.equal(toCsv([row]), 'partition,offset,timestamp,time,key,value,headers\r\n2,41,1700000000000,2023-11-14T22:13:20.000Z,\'=cmd(),"a,""b""\nc","{""h"":""v""}"\r\n');
    assert.equal(csvCell('-12'), '-12');
    assert.equal(csvCell('-x'), "'-x");
  });
  it('writes JSON with the encodings of binary fields', () => {
    const [r] = JSON.parse(toJson([{ ...row, valueBinary: true, value: '00ff' }]));
    assert.equal(r.valueEncoding, 'hex');
    assert.deepEqual(r.headers, [{ name: 'h', value: 'v' }]);
  });
});

describe('records as rows', () => {
  it('shows UTF-8 as text, other bytes as hex, and cuts long values', () => {
    assert.deepEqual(decodeField(Buffer.from('héllo')), { text: 'héllo' });
    assert.deepEqual(decodeField(Buffer.from([0xff, 0x00])), { text: 'ff00', binary: true });
    const long = decodeField(Buffer.from('x'.repeat(100)), 10);
    assert.equal(long.text, 'x'.repeat(10));
    assert.equal(long.truncatedFrom, 100);
    const row = toTailRow(9, { topic: 't', partition: 0, offset: '5', timestamp: '1', key: null, value: Buffer.from('{"a":1}'), headers: { h: [Buffer.from('v')] } });
    assert.equal(row.json, true);
    assert.deepEqual(row.headers, [['h', 'v']]);
  });
});

describe('producer run', () => {
  const form = (patch: Partial<ProduceForm>): ProduceForm => ({ key: '', value: 'v', valueFormat: 'text', headers: [], partition: 'auto', acks: 'all', compression: 'none', count: 1, ...patch });
  const sender = () => {
    const sent: OutgoingRecord[] = [];
    const next = new Map<number, number>();
    return {
      sent,
      async send(_topic: string, records: OutgoingRecord[]): Promise<DeliveryReport[]> {
        return records.map((r) => {
          sent.push(r);
          const p = r.partition ?? sent.length % 3;
          const o = next.get(p) ?? 0;
          next.set(p, o + 1);
          return { partition: p, offset: String(o) };
        });
      },
    };
  };

  it('expands the template per record, sends in chunks with progress, and summarises offsets per partition', async () => {
    const s = sender();
    const progress: number[] = [];
    const summary = await runProduce(form({ key: 'k{{i}}', value: '{"n": {{i}}}', valueFormat: 'json', count: 1200, headers: [{ name: 'h', value: '{{n}}' }] }), {
      runId: 1,
      topic: 't',
      partitions: [0, 1, 2],
      maxCount: 10_000,
      sender: s,
      chunkSize: 500,
      onProgress: (p) => progress.push(p.sent),
    });
    assert.equal(summary.sent, 1200);
    assert.equal(s.sent[7].key, 'k7');
    assert.equal(s.sent[7].value, '{"n": 7}');
    assert.deepEqual(s.sent[7].headers, { h: '8' });
    assert.equal(progress[progress.length - 1], 1200);
    assert.equal(summary.results.length + summary.omitted, 1200);
    assert.deepEqual(
      summary.ranges.map((r) => r.partition),
      [0, 1, 2],
    );
  });

  it('refuses bad forms and non-JSON values before sending, and stops at the first failed request', async () => {
    const s = sender();
    const opts = { runId: 2, topic: 't', partitions: [0], maxCount: 100, sender: s };
    await assert.rejects(runProduce(form({ count: 0 }), opts), /count/);
    await assert.rejects(runProduce(form({ partition: 5 }), opts), /partition 5 does not exist/);
    await assert.rejects(runProduce(form({ value: '{{nope}}' }), opts), /unknown template variable/);
    await assert.rejects(runProduce(form({ value: '{"a": {{i}}', valueFormat: 'json' }), opts), /not JSON/);
    assert.equal(s.sent.length, 0);
    let calls = 0;
    const failing = { send: async () => { calls++; throw new Error('This server does not host this topic-partition'); } };
    const summary = await runProduce(form({ count: 1000 }), { ...opts, maxCount: 10_000, sender: failing, chunkSize: 100 });
    assert.equal(calls, 1);
    assert.equal(summary.failed, 100);
    assert.equal(summary.sent, 0);
    assert.match(summary.error ?? '', /does not host/);
  });

  it('can be cancelled between chunks', async () => {
    let n = 0;
    const summary = await runProduce(form({ count: 1000 }), { runId: 3, topic: 't', partitions: [0], maxCount: 10_000, sender: sender(), chunkSize: 100, isCancelled: () => ++n > 3 });
    assert.equal(summary.cancelled, true);
    assert.equal(summary.sent, 300);
  });
});

describe('tail pipeline', () => {
  /** A stream fed by the test. */
  function fakeStream() {
    const queue: ConsumedRecord[] = [];
    const waiters: Array<(r: ConsumedRecord | undefined) => void> = [];
    let stopped = false;
    const stream: RecordStream = {
      next: (o) =>
        new Promise((resolve) => {
          const r = queue.shift();
          if (r || stopped) return resolve(r);
          waiters.push(resolve);
          if (o?.timeoutMs) setTimeout(() => {
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
    let offset = 0;
    return {
      stream,
      push(n: number) {
        for (let i = 0; i < n; i++) {
          const r: ConsumedRecord = { topic: 't', partition: 0, offset: String(offset++), timestamp: '1', key: null, value: Buffer.from(`v${offset}`), headers: {} };
          const w = waiters.shift();
          if (w) w(r);
          else queue.push(r);
        }
      },
    };
  }

  const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

  it('keeps a bounded ring, batches what the page has not seen, counts what it skipped, and holds records while paused', async () => {
    const fake = fakeStream();
    const batches: TailBatch[] = [];
    const p = new TailPipeline({ connection: { bootstrapServers: ['x:1'] }, topic: 't', bufferSize: 100, batchIntervalMs: 20, sink: (b) => batches.push(b), open: async () => fake.stream });
    await p.start({ start: { kind: 'earliest' } });
    fake.push(250); // more than the ring holds, before any page is attached
    await settle();
    assert.equal(p.ring.length, 100);
    assert.equal(p.status().received, 250);
    assert.equal(batches.length, 0, 'nothing is posted without a page');
    const snapshot = p.attach(true);
    assert.equal(snapshot.length, 100);
    assert.equal(snapshot[0].offset, '150');
    fake.push(30);
    await settle();
    const rows = batches.flatMap((b) => b.rows);
    assert.deepEqual(rows.map((r) => r.offset), Array.from({ length: 30 }, (_, i) => String(250 + i)));
    assert.equal(p.status().skipped, 150, 'rows that left the ring before any page saw them');
    p.setPaused(true);
    fake.push(5);
    await settle();
    assert.equal(p.status().received, 280, 'nothing is taken while paused');
    assert.equal(p.status().state, 'paused');
    p.setPaused(false);
    await settle();
    assert.equal(p.status().received, 285);
    // A page too slow to be posted to (detached) while the ring overflows: the overflow is counted as skipped.
    p.attach(false);
    fake.push(150);
    await settle();
    assert.equal(p.status().skipped, 150 + 50);
    await p.dispose();
    assert.equal(p.status().state, 'stopped');
    assert.equal(fake.stream.stopped, true, 'disposing stops the consumer');
  });
});
