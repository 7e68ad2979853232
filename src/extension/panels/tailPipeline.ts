// The host side of a topic tail, without vscode (bench/tail-panel.ts drives it in plain Node):
//
//   openConsumer (no group unless asked)  ->  TailRow  ->  ring of the last `bufferSize` rows
//                                                           |  every BATCH_INTERVAL_MS, if a page is attached:
//                                                           v  the rows it has not seen (at most the ring)
//                                                        sink(batch)
//
// Memory is bounded by the ring (rows) and MAX_FIELD_CHARS (bytes per field), plus the consumer's own read-ahead
// (`readAhead` records). Pausing stops taking records from the consumer, whose bounded queue then stops its
// fetches: nothing is dropped and nothing piles up while paused.

import { describeConnectionError, KafkaConnectionOptions } from '../../client/connection';
import { ConsumedRecord, openConsumer, RecordStream, StartPosition } from '../../client/consumer';
import { RingBuffer } from '../../shared/ring';
import { applyOutcome, BATCH_INTERVAL_MS, TailBatch, TailConfig, TailRow, TailStart, TailState, TailStatus, TxnOutcome } from '../../shared/tailProtocol';
import { toTailRow } from './records';

export interface TailPipelineOptions {
  connection: KafkaConnectionOptions;
  topic: string;
  bufferSize: number;
  /** Receives batches while a page is attached (see attach()). */
  sink(batch: TailBatch): void;
  /** Called when the state changes (starting, live, paused, error...), attached or not. */
  onStatus?(status: TailStatus): void;
  warn?(message: string): void;
  batchIntervalMs?: number;
  /** Records the consumer may buffer ahead of the pipeline. */
  readAhead?: number;
  /** Consumer open hook for tests. */
  open?: typeof openConsumer;
}

export function startPosition(start: TailStart): StartPosition {
  switch (start.kind) {
    case 'latest':
    case 'earliest':
      return start.kind;
    case 'timestamp':
      return { timestamp: start.timestamp };
    case 'offset':
      return { offset: start.offset };
  }
}

export class TailPipeline {
  readonly ring: RingBuffer<TailRow>;
  private config: TailConfig = { start: { kind: 'latest' } };
  private stream: RecordStream | undefined;
  private loop: Promise<void> | undefined;
  /** Bumped by every (re)start and stop, so a superseded loop knows to end. */
  private run = 0;
  private seq = 0;
  /** The last seq handed to the sink. */
  private sentSeq = 0;
  private attached = false;
  private paused = false;
  private resumeGate: { promise: Promise<void>; open(): void } | undefined;
  private state: TailState = 'stopped';
  private error: string | undefined;
  private received = 0;
  private skipped = 0;
  /** Records per BATCH_INTERVAL_MS bucket over the last second. */
  private readonly buckets: number[] = [];
  private bucket = 0;
  private lastStatusKey = '';
  private readonly timer: ReturnType<typeof setInterval>;
  private disposed = false;
  /**
   * read_uncommitted: the rows of each (partition, producer) transaction still open, for its marker to settle.
   * Bounded like the ring: a transaction longer than the ring keeps only its newest rows here.
   */
  private readonly openTxnRows = new Map<string, TailRow[]>();
  /** Markers seen since the last batch; sent after that batch's rows. */
  private outcomes: TxnOutcome[] = [];

  constructor(private readonly options: TailPipelineOptions) {
    this.ring = new RingBuffer<TailRow>(options.bufferSize);
    this.timer = setInterval(() => this.tick(), options.batchIntervalMs ?? BATCH_INTERVAL_MS);
  }

  get currentConfig(): TailConfig {
    return this.config;
  }

  get bufferSize(): number {
    return this.ring.capacity;
  }

  status(): TailStatus {
    const s: TailStatus = { state: this.state, rate: this.rate(), received: this.received, skipped: this.skipped };
    if (this.error !== undefined) s.error = this.error;
    return s;
  }

  /** Starts (or starts over) with `config`: the ring is emptied; the caller tells the page to reset. */
  async start(config: TailConfig): Promise<void> {
    if (this.disposed) throw new Error('the tail is closed');
    const run = ++this.run; // the running loop (if any) ends at its next step, adding nothing more
    // Empty synchronously, so no batch of the old run follows the caller's reset message.
    this.config = config;
    this.ring.clear();
    this.sentSeq = this.seq;
    this.received = 0;
    this.skipped = 0;
    this.buckets.length = 0;
    this.bucket = 0;
    this.error = undefined;
    this.openTxnRows.clear();
    this.outcomes = [];
    this.setState('starting');
    await this.stopStream();
    if (run !== this.run) return; // superseded by a later start or stop
    const open = this.options.open ?? openConsumer;
    let stream: RecordStream;
    try {
      stream = await open(this.options.connection, {
        topic: this.options.topic,
        from: startPosition(config.start),
        ...(config.partitions && !config.groupId ? { partitions: config.partitions } : {}),
        ...(config.groupId ? { groupId: config.groupId } : {}),
        ...(config.isolation ? { isolation: config.isolation } : {}),
        // Transaction markers are rows of their own (without a group: kafkajs's group consumer cannot hand them all over).
        controlRecords: true,
        bufferSize: this.options.readAhead ?? 1000,
      });
    } catch (err) {
      if (run !== this.run) return;
      this.fail(err);
      throw new Error(this.error);
    }
    if (run !== this.run || this.disposed) {
      await stream.stop();
      return;
    }
    this.stream = stream;
    this.setState(this.paused ? 'paused' : 'live');
    this.loop = this.pump(run, stream);
  }

  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.resumeGate = { promise, open };
    } else {
      this.resumeGate?.open();
      this.resumeGate = undefined;
    }
    if (this.state === 'live' || this.state === 'paused') this.setState(paused ? 'paused' : 'live');
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * A page is attached (true) or gone (false). Attaching returns the ring (what the page should show now) and
   * from then on the sink gets every newer row.
   */
  attach(attached: boolean): TailRow[] {
    this.attached = attached;
    this.outcomes = []; // the ring's rows carry them already
    if (!attached) return [];
    this.sentSeq = this.seq;
    return this.ring.toArray();
  }

  /** Empties the ring (the page clears its own). Reading goes on. */
  clear(): void {
    this.ring.clear();
    this.sentSeq = this.seq;
  }

  async stop(): Promise<void> {
    this.run++;
    await this.stopStream();
    if (this.state !== 'error') this.setState('stopped');
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.timer);
    this.run++;
    this.resumeGate?.open();
    await this.stopStream();
    if (this.state !== 'error') this.setState('stopped');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private async stopStream(): Promise<void> {
    const stream = this.stream;
    const loop = this.loop;
    this.stream = undefined;
    this.loop = undefined;
    this.resumeGate?.open(); // let a paused loop see that its run is over
    if (this.paused) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.resumeGate = { promise, open };
    }
    if (stream) await stream.stop().catch((err: unknown) => this.options.warn?.(`stopping the tail of ${this.options.topic}: ${describeConnectionError(err)}`));
    await loop;
  }

  private async pump(run: number, stream: RecordStream): Promise<void> {
    try {
      while (run === this.run) {
        if (this.paused) {
          await this.resumeGate?.promise;
          continue;
        }
        const record = await stream.next({ timeoutMs: 250 });
        if (run !== this.run) return;
        if (record === undefined) {
          if (stream.stopped) break;
          continue;
        }
        // Paused while waiting for this record: hold it until resumed, so nothing shows while paused.
        while (this.paused && run === this.run) await this.resumeGate?.promise;
        if (run !== this.run) return;
        this.add(record);
      }
    } catch (err) {
      if (run === this.run) this.fail(err);
      return;
    }
    if (run === this.run && this.state !== 'error') this.setState('stopped');
  }

  private add(record: ConsumedRecord): void {
    const row = toTailRow(++this.seq, record, this.config.isolation ?? 'read_committed');
    this.trackTransaction(row);
    const evicted = this.ring.push(row);
    if (evicted && evicted.seq > this.sentSeq) this.skipped++;
    this.received++;
    this.bucket++;
  }

  /** An open row waits for its marker; a marker settles the rows it ends and is queued for the page. */
  private trackTransaction(row: TailRow): void {
    if (!row.txn) return;
    const key = `${row.partition}\u0000${row.txn.producerId}`;
    if (row.control) {
      const outcome: TxnOutcome = { partition: row.partition, producerId: row.txn.producerId, outcome: row.control === 'COMMIT' ? 'committed' : 'aborted', markerOffset: row.offset };
      const pending = this.openTxnRows.get(key);
      this.openTxnRows.delete(key);
      if (pending) applyOutcome(pending, outcome);
      // Only rows already sent need telling; unsent ones were just changed in place and go out settled.
      if (this.attached && pending?.some((r) => r.seq <= this.sentSeq)) this.outcomes.push(outcome);
      return;
    }
    if (row.txn.state !== 'open') return;
    let rows = this.openTxnRows.get(key);
    if (!rows) this.openTxnRows.set(key, (rows = []));
    rows.push(row);
    if (rows.length > this.ring.capacity) rows.shift();
  }

  private tick(): void {
    this.buckets.push(this.bucket);
    this.bucket = 0;
    const perSecond = Math.max(1, Math.round(1000 / (this.options.batchIntervalMs ?? BATCH_INTERVAL_MS)));
    while (this.buckets.length > perSecond) this.buckets.shift();
    if (!this.attached) return;
    const rows = this.unsent();
    const status = this.status();
    const outcomes = this.outcomes;
    const key = `${status.state}|${status.rate}|${status.received}|${status.skipped}|${status.error ?? ''}`;
    if (rows.length === 0 && outcomes.length === 0 && key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    this.outcomes = [];
    this.options.sink(outcomes.length > 0 ? { rows, status, outcomes } : { rows, status });
  }

  /** Rows newer than the last batch, oldest first; the ring only holds the newest, so at most its capacity. */
  private unsent(): TailRow[] {
    const last = this.ring.last();
    if (!last || last.seq <= this.sentSeq) return [];
    const n = this.ring.length;
    let i = n;
    while (i > 0 && (this.ring.at(i - 1) as TailRow).seq > this.sentSeq) i--;
    const rows: TailRow[] = new Array(n - i);
    for (let j = i; j < n; j++) rows[j - i] = this.ring.at(j) as TailRow;
    this.sentSeq = last.seq;
    return rows;
  }

  private rate(): number {
    const n = this.buckets.length;
    if (n === 0) return 0;
    const sum = this.buckets.reduce((a, b) => a + b, 0);
    const windowMs = n * (this.options.batchIntervalMs ?? BATCH_INTERVAL_MS);
    return Math.round((sum * 1000) / windowMs);
  }

  private fail(err: unknown): void {
    this.error = describeConnectionError(err, this.options.connection.bootstrapServers);
    this.setState('error');
    this.options.warn?.(`tail of ${this.options.topic}: ${this.error}`);
  }

  private setState(state: TailState): void {
    this.state = state;
    this.options.onStatus?.(this.status());
  }
}
