// Shared by the benchmarks (bench/broker.ts, bench/cluster.ts): child processes that are killed on every exit path,
// the `minikafka` CLI as a child process, the raw loopback baseline, a pipelined produce driver over our own
// WireClient, topic creation, and table/percentile formatting. Not a benchmark itself (esbuild skips it).

import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WireClient } from '../src/broker/wireClient';
import { CreateTopics, Metadata, Produce } from '../src/protocol/apis';
import { errorName } from '../src/protocol/errorCode';

// ------------------------------------------------------------------------------------------------ paths

/** The bundles live in dist/bench/; the CLI bundle is dist/cli.js; results go to <repo>/bench/results/. */
export const CLI = process.env.MINIKAFKA_CLI ?? join(__dirname, '..', 'cli.js');
export const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');
export const MB = 1e6;

// ------------------------------------------------------------------------------------------------ child processes

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

/** Kills a child and everything it forked: children are started detached, in their own process group. */
export function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* group already gone */
  }
  try {
    child.kill('SIGKILL');
  } catch {
    /* already gone */
  }
  children.delete(child);
}

function cleanupSync(): void {
  for (const c of [...children]) killTree(c);
  children.clear();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * Runs a benchmark's main function with a watchdog; whatever happens (success, error, watchdog, SIGINT/SIGTERM/
 * SIGHUP, process exit) every child process group is killed and every temp dir removed.
 */
export function runBench(name: string, watchdogMs: number, main: () => Promise<void>): void {
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      cleanupSync();
      process.exit(130);
    });
  }
  const watchdog = setTimeout(() => {
    console.error(`bench/${name}: watchdog: still running after ${watchdogMs / 1000} s, giving up`);
    cleanupSync();
    process.exit(2);
  }, watchdogMs);
  watchdog.unref();
  main().then(
    () => {
      cleanupSync();
      process.exit(0);
    },
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      cleanupSync();
      process.exit(1);
    },
  );
}

export interface Cli {
  child: ChildProcess;
  bootstrap: string;
  output(): string;
  /** SIGTERM (graceful), then SIGKILL of the whole group after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

/** Like test/helpers/cli.ts spawnCli: runs `minikafka <args>` and resolves on its `bootstrap:` line. */
export function startCli(args: string[], timeoutMs = 15000): Promise<Cli> {
  // BENCH_CLI_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the CLI (the supervisor, for `start`).
  const execArgv = (process.env.BENCH_CLI_EXEC_ARGV ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...execArgv, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cli: Cli = {
    child,
    bootstrap: '',
    output: () => out,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid!, 'SIGTERM');
        } catch {
          /* gone */
        }
        await Promise.race([exited, sleep(graceMs)]);
      }
      killTree(child); // the supervisor stops its brokers; this catches any straggler of the group
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child);
      reject(new Error(`minikafka ${args.join(' ')} did not print bootstrap within ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.stdout!.on('data', () => {
      const m = /bootstrap: (\S+)/.exec(out);
      if (m && !cli.bootstrap) {
        clearTimeout(timer);
        cli.bootstrap = m[1];
        resolve(cli);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`minikafka ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before it was ready\n${out}`));
    });
  });
}

// ------------------------------------------------------------------------------------------------ helpers

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function pcts(samples: number[]): { p50: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), n: s.length };
}

export function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
export const fmtMB = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${Math.round(ms)} ms`;
}

export function renderTable(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (rightAlign[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return { cpu: c[0]?.model ?? 'unknown', cores: c.length, node: process.version, platform: `${process.platform} ${release()}`, loadavg: loadavg().map((x) => Number(x.toFixed(2))) };
}

export function machineLine(m: MachineInfo): string {
  return `machine: ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.platform}, load ${m.loadavg.join(' ')}`;
}

/** A results row: the table shows case, records/s, MB/s, vs loopback, p50, p99; the JSON keeps every field. */
export interface Row {
  case: string;
  recordsPerSec?: number;
  mbPerSec?: number;
  vsLoopbackPct?: number;
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
  [k: string]: unknown;
}

/** What a throughput case measured: requests and records done, value and batch bytes, wall time, latencies. */
export interface ThroughputRun {
  requests: number;
  records: number;
  valueBytes: number;
  batchBytes: number;
  seconds: number;
  latencies: number[];
}

/** A table row for a throughput case: rates, share of the loopback baseline, latency percentiles, raw counts. */
export function throughputRow(name: string, r: ThroughputRun, loopbackMBs: number, extra: Record<string, unknown> = {}): Row {
  const l = pcts(r.latencies);
  const mbs = r.valueBytes / MB / r.seconds;
  return {
    case: name,
    recordsPerSec: r.records / r.seconds,
    mbPerSec: mbs,
    vsLoopbackPct: (100 * mbs) / loopbackMBs,
    p50Ms: l.p50,
    p99Ms: l.p99,
    requests: r.requests,
    records: r.records,
    seconds: r.seconds,
    batchBytesPerSecMB: r.batchBytes / MB / r.seconds,
    ...extra,
  };
}

/** The standard throughput table; `vsLoopback` may override the cell of a row (latency rows). */
export function throughputTable(rows: Row[], vsLoopback: (r: Row) => string | undefined = () => undefined): string {
  return renderTable(
    ['case', 'records/s', 'MB/s', 'vs loopback', 'p50', 'p99'],
    rows.map((r) => [
      r.case,
      r.recordsPerSec === undefined ? '—' : fmtInt(r.recordsPerSec),
      r.mbPerSec === undefined ? '—' : fmtMB(r.mbPerSec),
      vsLoopback(r) ?? (r.vsLoopbackPct === undefined ? '—' : `${r.vsLoopbackPct.toFixed(1)}%`),
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
    ]),
    [false, true, true, true, true, true],
  );
}

export function writeResults(name: string, out: object): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  return file;
}

// ------------------------------------------------------------------------------------------------ baseline

// A sink (counts bytes, answers the count when the writer ends) and an echo server, in a child process so
// the baseline crosses processes like the broker measurements do. Exits when its stdin closes.
const SINK_SRC = `
const net = require('net');
const sink = net.createServer({ allowHalfOpen: true }, (s) => {
  let n = 0;
  s.on('data', (d) => { n += d.length; });
  s.on('end', () => s.end(String(n)));
  s.on('error', () => {});
});
const echo = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
sink.listen(0, '127.0.0.1', () => echo.listen(0, '127.0.0.1', () => {
  process.stdout.write('ports ' + sink.address().port + ' ' + echo.address().port + '\\n');
}));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function startSink(): Promise<{ sinkPort: number; echoPort: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SINK_SRC], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  children.add(child);
  let out = '';
  return withTimeout(
    new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /ports (\d+) (\d+)/.exec(out);
        if (m) resolve({ sinkPort: Number(m[1]), echoPort: Number(m[2]), child });
      });
      child.once('exit', (code) => reject(new Error(`loopback sink exited with ${code}`)));
    }),
    5000,
    'loopback sink start',
  );
}

function loopbackThroughput(port: number, durationMs: number): Promise<{ bytes: number; seconds: number }> {
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let t0 = 0;
    let deadline = 0;
    let reply = '';
    const pump = () => {
      while (performance.now() < deadline) {
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    sock.on('connect', () => {
      t0 = performance.now();
      deadline = t0 + durationMs;
      pump();
    });
    sock.on('data', (d) => (reply += d));
    sock.on('end', () => {
      const seconds = (performance.now() - t0) / 1000;
      sock.destroy();
      resolve({ bytes: Number(reply), seconds });
    });
    sock.on('error', reject);
  });
}

function loopbackRtt(port: number, durationMs: number, size = 100): Promise<number[]> {
  const ping = Buffer.alloc(size, 0x33);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    const samples: number[] = [];
    let got = 0;
    let sent = 0;
    let deadline = 0;
    sock.on('connect', () => {
      deadline = performance.now() + durationMs;
      sent = performance.now();
      sock.write(ping);
    });
    sock.on('data', (d) => {
      got += d.length;
      if (got < size) return;
      got -= size;
      const now = performance.now();
      samples.push(now - sent);
      if (now < deadline && samples.length < 500_000) {
        sent = performance.now();
        sock.write(ping);
      } else {
        sock.destroy();
        resolve(samples.slice(Math.min(200, samples.length >> 2))); // drop warm-up
      }
    });
    sock.on('error', reject);
  });
}

export interface Baseline {
  /** The larger of the loopback throughputs measured at the start and (after confirmLoopback) at the end. */
  loopbackMBs: number;
  loopbackStartMBs: number;
  loopbackEndMBs?: number;
  loopbackBytes: number;
  loopbackSeconds: number;
  rttP50Ms: number;
  rttP99Ms: number;
  rttSamples: number;
  /** The two baseline rows of the table. */
  rows: Row[];
}

/**
 * Raw Node loopback TCP between two processes: one connection, 256 KiB writes to a byte-counting sink for
 * throughputMs, then a 100-byte ping-pong for rttMs. Every "vs loopback" percentage is relative to this run's figure.
 */
export async function measureLoopback(throughputMs = 1500, rttMs = 1000): Promise<Baseline> {
  const sink = await startSink();
  try {
    const lb = await withTimeout(loopbackThroughput(sink.sinkPort, throughputMs), throughputMs + 15000, 'loopback throughput');
    const rtt = pcts(await withTimeout(loopbackRtt(sink.echoPort, rttMs), rttMs + 15000, 'loopback RTT'));
    const loopbackMBs = lb.bytes / MB / lb.seconds;
    return {
      loopbackMBs,
      loopbackStartMBs: loopbackMBs,
      loopbackBytes: lb.bytes,
      loopbackSeconds: lb.seconds,
      rttP50Ms: rtt.p50,
      rttP99Ms: rtt.p99,
      rttSamples: rtt.n,
      rows: [
        { case: 'baseline: Node loopback TCP, 1 conn, 256 KiB writes', mbPerSec: loopbackMBs, vsLoopbackPct: 100, bytes: lb.bytes, seconds: lb.seconds },
        { case: 'baseline: Node loopback ping-pong 100 B (RTT)', recordsPerSec: 1000 / rtt.p50, p50Ms: rtt.p50, p99Ms: rtt.p99, samples: rtt.n, note: 'records/s = 1 / p50' },
      ],
    };
  } finally {
    sink.child.stdin!.end();
    killTree(sink.child);
  }
}

/**
 * The second baseline: appending 1 MiB writes to a new file in the temp dir, as a broker appends produced batches to
 * a segment (no fsync, as Kafka does not fsync per write). It bounds what any produce path can reach on this machine:
 * on the shared VM, new page-cache pages cost far more than socket buffers (300-450 MB/s against 2+ GB/s of loopback
 * in some runs, 1.5 GB/s in others), so produce figures are shown against this too.
 */
export function measureFileAppend(durationMs = 1500, maxBytes = 2 * 1024 * 1024 * 1024): Row {
  const dir = tempDir('minikafka-bench-file-');
  const chunk = Buffer.alloc(1024 * 1024, 0x63);
  const fd = openSync(join(dir, 'segment.log'), 'w');
  let bytes = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < durationMs && bytes < maxBytes) bytes += writeSync(fd, chunk, 0, chunk.length, bytes);
  } finally {
    closeSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return { case: 'baseline: append 1 MiB writes to a new file (page cache)', mbPerSec: bytes / MB / seconds, bytes, seconds, note: 'what a segment append can reach here' };
}

/**
 * Measures the loopback throughput again at the end of a run and keeps the larger of the two figures as the
 * baseline: other processes on a shared machine can depress one short measurement, which would flatter every
 * "vs loopback" percentage. Rescales the rows' percentages to the kept figure.
 */
export async function confirmLoopback(baseline: Baseline, rows: Row[], throughputMs = 1000): Promise<void> {
  const sink = await startSink();
  let end: number;
  try {
    const lb = await withTimeout(loopbackThroughput(sink.sinkPort, throughputMs), throughputMs + 15000, 'loopback throughput');
    end = lb.bytes / MB / lb.seconds;
  } finally {
    sink.child.stdin!.end();
    killTree(sink.child);
  }
  baseline.loopbackEndMBs = end;
  baseline.loopbackMBs = Math.max(baseline.loopbackStartMBs, end);
  const baseRow = baseline.rows[0];
  baseRow.mbPerSec = baseline.loopbackMBs;
  baseRow.note = `larger of ${baseline.loopbackStartMBs.toFixed(0)} MB/s at the start and ${end.toFixed(0)} MB/s at the end`;
  for (const r of rows) {
    if (r !== baseRow && r.vsLoopbackPct !== undefined && r.mbPerSec !== undefined) r.vsLoopbackPct = (100 * r.mbPerSec) / baseline.loopbackMBs;
  }
}

// ------------------------------------------------------------------------------------------------ Kafka requests

export type ProduceRun = ThroughputRun;

/** Produces the same prebuilt batch over and over for durationMs with at most `window` requests in flight. */
export function pipelinedProduce(c: WireClient, topic: string, batch: Buffer, recordsPerBatch: number, valueBytesPerBatch: number, acks: number, durationMs: number, window: number, partition = 0): Promise<ProduceRun> {
  const body = { transactionalId: null, acks, timeoutMs: 30000, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] };
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let inflight = 0;
    let done = 0;
    let failed = false;
    const t0 = performance.now();
    const deadline = t0 + durationMs;
    const finish = () => {
      const seconds = (performance.now() - t0) / 1000;
      resolve({ requests: done, records: done * recordsPerBatch, valueBytes: done * valueBytesPerBatch, batchBytes: done * batch.length, seconds, latencies });
    };
    const launch = () => {
      while (!failed && inflight < window && performance.now() < deadline) {
        inflight++;
        const sent = performance.now();
        c.request(Produce, 9, body).then(
          (res) => {
            const pr = res.responses[0].partitionResponses[0];
            if (pr.errorCode !== 0) {
              failed = true;
              return reject(new Error(`produce to ${topic}: ${errorName(pr.errorCode)} ${pr.errorMessage ?? ''}`));
            }
            latencies.push(performance.now() - sent);
            inflight--;
            done++;
            if (performance.now() < deadline) launch();
            else if (inflight === 0) finish();
          },
          (err) => {
            failed = true;
            reject(err);
          },
        );
      }
    };
    launch();
  });
}

/** Metadata of one topic as the broker behind `c` sees it. */
export async function topicMetadata(c: WireClient, name: string) {
  const md = await c.request(Metadata, 9, { topics: [{ name }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 5000);
  return { brokers: md.brokers, topic: md.topics[0] };
}

/**
 * CreateTopics (one partition unless told) and waits until the broker behind `c` names a leader for every
 * partition and, with `fullIsr`, lists every replica in the ISR.
 */
export async function createTopic(c: WireClient, name: string, replicationFactor: number, configs: Record<string, string> = {}, opts: { partitions?: number; fullIsr?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const res = await c.request(CreateTopics, 5, {
    topics: [{ name, numPartitions: opts.partitions ?? 1, replicationFactor, assignments: [], configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })) }],
    timeoutMs: 10000,
    validateOnly: false,
  });
  const t = res.topics[0];
  if (t.errorCode !== 0) throw new Error(`CreateTopics ${name}: ${errorName(t.errorCode)} ${t.errorMessage ?? ''}`);
  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  while (Date.now() < deadline) {
    const { topic } = await topicMetadata(c, name);
    const ready =
      topic?.errorCode === 0 &&
      topic.partitions.length === (opts.partitions ?? 1) &&
      topic.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0 && (!opts.fullIsr || p.isrNodes.length === replicationFactor));
    if (ready) return;
    await sleep(5);
  }
  throw new Error(`topic ${name} has no leader${opts.fullIsr ? ' or no full ISR' : ''} after ${opts.timeoutMs ?? 10000} ms`);
}
