// Tail panel benchmark: `node esbuild.mjs && node dist/bench/tail-panel.js` (BENCH_TAIL_SECONDS=60 by default,
// BENCH_TAIL_RATE=10000 records/s).
//
// A real broker (`minikafka start --brokers 1`, a child process) and a producer in another child process sending
// BENCH_TAIL_RATE small JSON records a second (1000 per request every 100 ms, acks=1) to a 3-partition topic.
// Two phases of BENCH_TAIL_SECONDS each:
//   1. host: the tail pipeline the panel uses (src/extension/panels/tailPipeline.ts: consumer without a group →
//      TailRow → ring of minikafka.tail.bufferSize = 10000 → a batch every 100 ms), attached to a sink that only
//      counts. Sampled every second: heapUsed and RSS of this process, records delivered. Flat = no growth after
//      the warm-up (slope of a least-squares line over the samples after 10 s).
//   2. page: the same pipeline feeding the tail webview bundle (dist/webview/tail.js) in headless Chromium through
//      a stub acquireVsCodeApi (the real page code, the real message shapes, postMessage replaced by
//      dispatchEvent). Sampled every 2 s: the page's JS heap (CDP Runtime.getHeapUsage), DOM element count, rows
//      held; at the end the page's own figures: time to handle a batch (ring + filter + status) and to render a
//      frame of the virtual table, and the intervals between animation frames (jank).
// Prints a table and writes bench/results/tail-panel.json. Bounded: a watchdog ends the run; every child process
// (broker, producer, Chromium) is killed on the way out, also on error.

import { ChildProcess, fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Browser, Page } from 'playwright-core';
import { ClusterAdmin } from '../src/client/admin';
import { RecordProducer } from '../src/client/producer';
import { TailPipeline } from '../src/extension/panels/tailPipeline';
import { IpcEndpoint, ProbeRequest, ProbeResult, ReadyCommand } from '../src/shared/ipc';
import { TailBatch, TailBatchNotification, TailPauseRequest, TailSyncRequest } from '../src/shared/tailProtocol';

const SECONDS = Number(process.env.BENCH_TAIL_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_TAIL_RATE ?? 10_000);
const BUFFER = 10_000;
const TOPIC = 'bench-tail';
const WARMUP_S = Math.min(10, SECONDS / 3);
const DIST = join(__dirname, '..');
const CLI = process.env.MINIKAFKA_CLI ?? join(DIST, 'cli.js');
const RESULTS_DIR = join(DIST, '..', 'bench', 'results');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WATCHDOG_MS = (SECONDS * 2 + 120) * 1000;

// ------------------------------------------------------------------------------------------------ producer child

async function producerMain(): Promise<void> {
  const bootstrap = (process.env.BENCH_BOOTSTRAP ?? '').split(',');
  const producer = new RecordProducer({ bootstrapServers: bootstrap, clientId: 'bench-producer' }, { acks: 1 });
  await producer.connect();
  const perTick = Math.max(1, Math.round(RATE / 10));
  let sent = 0;
  let i = 0;
  const t0 = performance.now();
  const until = t0 + Number(process.env.BENCH_PRODUCE_MS ?? 0);
  let next = t0;
  while (performance.now() < until) {
    const records = Array.from({ length: perTick }, () => {
      i++;
      return { key: `k-${i % 1000}`, value: JSON.stringify({ id: i, at: Date.now(), item: 'tea', qty: i % 7, note: 'a small JSON record of about 100 bytes' }), headers: { source: 'bench' } };
    });
    await producer.send(TOPIC, records);
    sent += perTick;
    next += 100;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await producer.disconnect();
  process.send?.({ sent, seconds: (performance.now() - t0) / 1000 });
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------ processes

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
let browser: Browser | undefined;

function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* no group */
  }
  try {
    child.kill('SIGKILL');
  } catch {
    /* gone */
  }
}

function cleanupSync(): void {
  for (const c of children) killTree(c);
  children.clear();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

async function startBroker(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'minikafka-bench-tail-'));
  tempDirs.push(dir);
  const child = spawn(process.execPath, [CLI, 'start', '--brokers', '1', '--port', '0', '--dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the broker did not start within 30 s:\n${out}`)), 30_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /bootstrap: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr?.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`the broker exited (${code}):\n${out}`)));
  });
}

function startProducer(bootstrap: string, ms: number): Promise<{ sent: number; seconds: number }> {
  const child = fork(__filename, [], { env: { ...process.env, BENCH_ROLE: 'producer', BENCH_BOOTSTRAP: bootstrap, BENCH_PRODUCE_MS: String(ms) }, stdio: 'inherit', detached: true });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as { sent: number; seconds: number }));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the producer exited with ${code}`))));
  });
}

// ------------------------------------------------------------------------------------------------ figures

interface HostSample {
  t: number;
  heapUsedMB: number;
  rssMB: number;
  delivered: number;
}

function slopePerMinute(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

const mb = (b: number) => b / 1024 / 1024;
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function summarize(samples: HostSample[]) {
  const after = samples.filter((s) => s.t >= WARMUP_S);
  const heap = after.map((s) => s.heapUsedMB);
  const rss = after.map((s) => s.rssMB);
  return {
    heapUsedMB: { min: r1(Math.min(...heap)), max: r1(Math.max(...heap)), last: r1(heap[heap.length - 1] ?? 0), slopeMBPerMin: r2(slopePerMinute(after.map((s) => [s.t, s.heapUsedMB]))) },
    rssMB: { min: r1(Math.min(...rss)), max: r1(Math.max(...rss)), last: r1(rss[rss.length - 1] ?? 0), slopeMBPerMin: r2(slopePerMinute(after.map((s) => [s.t, s.rssMB]))) },
  };
}

// ------------------------------------------------------------------------------------------------ phases

async function hostPhase(bootstrap: string, label: string, sink: (b: TailBatch) => void, onTick?: (t: number) => Promise<void>) {
  let delivered = 0;
  let batches = 0;
  let maxBatch = 0;
  const pipeline = new TailPipeline({
    connection: { bootstrapServers: bootstrap.split(','), clientId: `bench-tail-${label}` },
    topic: TOPIC,
    bufferSize: BUFFER,
    sink: (b) => {
      delivered += b.rows.length;
      if (b.rows.length) batches++;
      if (b.rows.length > maxBatch) maxBatch = b.rows.length;
      sink(b);
    },
  });
  await pipeline.start({ start: { kind: 'latest' } });
  return {
    pipeline,
    attach: () => pipeline.attach(true),
    async run(): Promise<{ samples: HostSample[]; delivered: number; batches: number; maxBatch: number; received: number; skipped: number; producer: { sent: number; seconds: number } }> {
      const samples: HostSample[] = [];
      const producing = startProducer(bootstrap, SECONDS * 1000);
      const t0 = performance.now();
      let lastDelivered = 0;
      for (let s = 1; s <= SECONDS; s++) {
        await new Promise((r) => setTimeout(r, t0 + s * 1000 - performance.now()));
        const m = process.memoryUsage();
        samples.push({ t: s, heapUsedMB: r1(mb(m.heapUsed)), rssMB: r1(mb(m.rss)), delivered: delivered - lastDelivered });
        lastDelivered = delivered;
        if (s % 10 === 0) console.log(`  [${label}] ${s}s: heap ${r1(mb(m.heapUsed))} MB, rss ${r1(mb(m.rss))} MB, ${samples[samples.length - 1].delivered} records/s delivered`);
        await onTick?.(s);
      }
      const producer = await producing;
      // Let the tail catch up with what was produced (bounded).
      const deadline = performance.now() + 15_000;
      while (pipeline.status().received < producer.sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 300));
      const st = pipeline.status();
      await pipeline.dispose();
      return { samples, delivered, batches, maxBatch, received: st.received, skipped: st.skipped, producer };
    },
  };
}

interface PageSample {
  t: number;
  jsHeapMB: number;
  /** After a forced garbage collection (every 10 s): what the page really keeps. */
  retainedMB?: number;
  domElements: number;
  held: number;
}

/** The page the host endpoint posts to: set before the page loads, since it asks for the ring at once. */
let page: Page | undefined;

async function pageHarness(host: IpcEndpoint): Promise<Page> {
  const req = createRequire(__filename);
  const { chromium } = req('playwright-core') as typeof import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'] });
  const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page = p;
  p.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
  if (process.env.BENCH_VERBOSE) p.on('console', (m) => console.log(`  [page console] ${m.text()}`));
  const nonce = 'bench';
  const origin = 'https://webview.bench';
  const csp = `default-src 'none'; img-src ${origin} data:; style-src ${origin} 'nonce-${nonce}'; font-src ${origin}; script-src 'nonce-${nonce}'`;
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta property="csp-nonce" content="${nonce}"><link rel="stylesheet" href="${origin}/codicons/codicon.css"><link rel="stylesheet" href="${origin}/webview/tail.css"></head><body data-panel="tail"><main id="app" aria-busy="true"></main><script nonce="${nonce}" src="${origin}/webview/tail.js"></script></body></html>`;
  await p.route(`${origin}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/index.html') return route.fulfill({ body: html, contentType: 'text/html' });
    const type = path.endsWith('.js') ? 'application/javascript' : path.endsWith('.css') ? 'text/css' : 'font/ttf';
    return route.fulfill({ body: readFileSync(join(DIST, path)), contentType: type });
  });
  await p.exposeFunction('__benchToHost', (m: unknown) => host.handle(m));
  // The stub VS Code API: what the page posts goes to the host endpoint in this process.
  await p.addInitScript(`(() => { let s; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__benchToHost(m), getState: () => s, setState: (x) => { s = x; } }); })();`);
  const ready = new Promise<void>((resolve) => host.on(ReadyCommand, () => resolve()));
  await p.goto(`${origin}/index.html`);
  await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error('the page did not say ready in 20 s')), 20_000))]);
  // Frame intervals: a rAF loop in the page (the bench's, not the panel's).
  await p.evaluate(`(() => { const f = window.__frames = []; let last = performance.now(); const loop = (t) => { f.push(t - last); last = t; if (f.length > 100000) f.splice(0, 50000); requestAnimationFrame(loop); }; requestAnimationFrame(loop); })()`);
  return p;
}

async function main(): Promise<void> {
  if (process.env.BENCH_ROLE === 'producer') return producerMain();
  const watchdog = setTimeout(() => {
    console.error(`watchdog: the benchmark took more than ${WATCHDOG_MS / 1000} s`);
    cleanupSync();
    process.exit(2);
  }, WATCHDOG_MS);
  const machine: Record<string, unknown> = { cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', loadavg: loadavg().map(r2), node: process.version };
  console.log(`tail panel benchmark: ${RATE} records/s for ${SECONDS} s per phase, buffer ${BUFFER}; ${machine.cpus} × ${machine.cpu}, load ${(machine.loadavg as number[]).join(' ')}`);
  const bootstrap = await startBroker();
  const admin = new ClusterAdmin({ bootstrapServers: bootstrap.split(',') });
  await admin.connect();
  await admin.createTopic({ name: TOPIC, partitions: 3, replicationFactor: 1 });
  await admin.disconnect();
  console.log(`broker at ${bootstrap}; topic ${TOPIC} (3 partitions)`);

  // ---- phase 1: host pipeline only
  console.log('phase 1: host pipeline → counting sink');
  const h = await hostPhase(bootstrap, 'host', () => undefined);
  h.attach();
  const host = await h.run();
  const hostSummary = summarize(host.samples);

  // ---- phase 2: host pipeline → tail page in Chromium
  console.log('phase 2: host pipeline → tail page (headless Chromium, stub acquireVsCodeApi)');
  // Host → page: what VS Code's postMessage does, a 'message' event on the page's window.
  // The message travels as one JSON string (Playwright's own argument serializer is slow for big objects) and is
  // parsed in the page: a little more page work than VS Code's structured clone, so the page figures err high.
  const dispatch = (json: string) => {
    const g = globalThis as unknown as { dispatchEvent(e: unknown): void; MessageEvent: new (type: string, init: { data: unknown }) => unknown };
    g.dispatchEvent(new g.MessageEvent('message', { data: JSON.parse(json) }));
  };
  const endpoint = new IpcEndpoint({
    post: (m) => void page?.evaluate(dispatch, JSON.stringify(m)).catch((err: unknown) => process.env.BENCH_VERBOSE && console.error(`  [post] ${String(err)}`)),
    onError: (t) => console.error(`  [host] ${t}`),
  });
  let onTick: ((t: number) => Promise<void>) | undefined;
  const h2 = await hostPhase(bootstrap, 'page', (b) => endpoint.send(TailBatchNotification, b), (t) => onTick?.(t) ?? Promise.resolve());
  endpoint.onRequest(TailSyncRequest, () => ({
    clusterLabel: 'bench',
    topic: TOPIC,
    allPartitions: [0, 1, 2],
    config: h2.pipeline.currentConfig,
    bufferSize: BUFFER,
    status: h2.pipeline.status(),
    rows: h2.attach(),
  }));
  endpoint.onRequest(TailPauseRequest, ({ paused }) => h2.pipeline.setPaused(paused));
  const pg = await pageHarness(endpoint);
  const cdp = await pg.context().newCDPSession(pg);
  const pageSamples: PageSample[] = [];
  const sample = async (t: number) => {
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    let retainedMB: number | undefined;
    if (t % 10 === 0) {
      await cdp.send('HeapProfiler.collectGarbage');
      retainedMB = r1(mb(((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize));
    }
    const probe: ProbeResult = await endpoint.request(ProbeRequest, {}, 10_000);
    const dom = Number((await page?.evaluate('document.getElementsByTagName("*").length')) ?? 0);
    pageSamples.push({ t, jsHeapMB: r1(mb(heap.usedSize)), ...(retainedMB !== undefined ? { retainedMB } : {}), domElements: dom, held: Number(probe.info.held) });
  };
  await sample(0);
  onTick = async (t) => {
    if (t % 2 === 0) await sample(t);
  };
  const pagePhase = await h2.run();
  await sample(SECONDS + 1);
  const probe = await endpoint.request(ProbeRequest, {}, 10_000);
  if (process.env.BENCH_VERBOSE) console.log(JSON.stringify(probe.info));
  const frames = ((await pg.evaluate('window.__frames')) as number[]).slice(60);
  await cdp.send('HeapProfiler.collectGarbage');
  const heapAfterGc = mb(((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize);
  await browser?.close();
  browser = undefined;
  cleanupSync();
  clearTimeout(watchdog);
  machine.loadavgAtEnd = loadavg().map(r2);
  report(machine, host, hostSummary, pagePhase, pageSamples, probe, frames, heapAfterGc);
}

function report(
  machine: Record<string, unknown>,
  host: Awaited<ReturnType<Awaited<ReturnType<typeof hostPhase>>['run']>>,
  hostSummary: ReturnType<typeof summarize>,
  pagePhase: Awaited<ReturnType<Awaited<ReturnType<typeof hostPhase>>['run']>>,
  pageSamples: PageSample[],
  probe: ProbeResult,
  frames: number[],
  heapAfterGc: number,
): void {
  const steady = (s: HostSample[]) => s.filter((x) => x.t >= WARMUP_S).map((x) => x.delivered);
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const pageSummary = summarize(pagePhase.samples);
  const heap = pageSamples.filter((s) => s.t >= WARMUP_S).map((s) => s.jsHeapMB);
  const retained = pageSamples.filter((s) => s.t >= WARMUP_S && s.retainedMB !== undefined).map((s) => [s.t, s.retainedMB as number] as [number, number]);
  const result = {
    name: 'tail-panel',
    date: new Date().toISOString(),
    machine,
    settings: { seconds: SECONDS, targetRate: RATE, bufferSize: BUFFER, batchIntervalMs: 100, warmupSeconds: WARMUP_S },
    host: {
      producedPerSecond: Math.round(host.producer.sent / host.producer.seconds),
      deliveredPerSecond: Math.round(avg(steady(host.samples))),
      received: host.received,
      produced: host.producer.sent,
      skipped: host.skipped,
      batches: host.batches,
      largestBatch: host.maxBatch,
      ...hostSummary,
      samples: host.samples,
    },
    page: {
      producedPerSecond: Math.round(pagePhase.producer.sent / pagePhase.producer.seconds),
      deliveredPerSecond: Math.round(avg(steady(pagePhase.samples))),
      received: pagePhase.received,
      skipped: pagePhase.skipped,
      hostWithPage: pageSummary,
      jsHeapMB: { min: r1(Math.min(...heap)), max: r1(Math.max(...heap)), afterGc: r1(heapAfterGc) },
      retainedHeapMB: { values: retained.map(([, v]) => v), slopeMBPerMin: r2(slopePerMinute(retained)) },
      domElements: { min: Math.min(...pageSamples.map((s) => s.domElements)), max: Math.max(...pageSamples.map((s) => s.domElements)) },
      rowsHeld: probe.info.held,
      batchesHandled: probe.info.batches,
      batchHandleMs: { avg: probe.info.avgBatchMs, max: probe.info.maxBatchMs },
      renderMs: { avg: probe.info.avgRenderMs, max: probe.info.maxRenderMs, renders: probe.info.renders },
      frameIntervalMs: { p50: r1(percentile(frames, 50)), p95: r1(percentile(frames, 95)), p99: r1(percentile(frames, 99)), max: r1(Math.max(0, ...frames)), over50ms: frames.filter((f) => f > 50).length, frames: frames.length },
      samples: pageSamples,
    },
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'tail-panel.json'), JSON.stringify(result, null, 2) + '\n');
  const rows: Array<[string, string]> = [
    ['records produced / s (phase 1)', String(result.host.producedPerSecond)],
    ['records delivered to the sink / s (after warm-up)', String(result.host.deliveredPerSecond)],
    ['received / produced', `${host.received} / ${host.producer.sent}`],
    ['skipped (left the ring unsent)', String(host.skipped)],
    ['largest batch (rows)', String(host.maxBatch)],
    ['host heapUsed MB (min–max, slope/min)', `${hostSummary.heapUsedMB.min}–${hostSummary.heapUsedMB.max}, ${hostSummary.heapUsedMB.slopeMBPerMin}`],
    ['host RSS MB (min–max, slope/min)', `${hostSummary.rssMB.min}–${hostSummary.rssMB.max}, ${hostSummary.rssMB.slopeMBPerMin}`],
    ['records delivered to the page / s (phase 2)', String(result.page.deliveredPerSecond)],
    ['page JS heap MB, used (min–max, garbage included)', `${result.page.jsHeapMB.min}–${result.page.jsHeapMB.max}`],
    ['page JS heap MB, retained (after GC every 10 s)', `${result.page.retainedHeapMB.values.join(', ')} (slope ${result.page.retainedHeapMB.slopeMBPerMin}/min)`],
    ['page DOM elements (min–max)', `${result.page.domElements.min}–${result.page.domElements.max}`],
    ['page rows held', String(result.page.rowsHeld)],
    ['page batch handling ms (avg / max)', `${result.page.batchHandleMs.avg} / ${result.page.batchHandleMs.max}`],
    ['page render ms per frame (avg / max, renders)', `${result.page.renderMs.avg} / ${result.page.renderMs.max}, ${result.page.renderMs.renders}`],
    ['frame interval ms (p50 / p95 / p99 / max)', `${result.page.frameIntervalMs.p50} / ${result.page.frameIntervalMs.p95} / ${result.page.frameIntervalMs.p99} / ${result.page.frameIntervalMs.max}`],
    ['frames over 50 ms', `${result.page.frameIntervalMs.over50ms} of ${result.page.frameIntervalMs.frames}`],
    ['host (phase 2, with Playwright) heap / RSS MB max', `${pageSummary.heapUsedMB.max} / ${pageSummary.rssMB.max}`],
    ['machine load average (start → end)', `${(machine.loadavg as number[])[0]} → ${(machine.loadavgAtEnd as number[])[0]} on ${machine.cpus} cores`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log('\n' + rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  console.log(`\nwrote ${join(RESULTS_DIR, 'tail-panel.json')}`);
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    cleanupSync();
    process.exit(130);
  });
}

main().catch(async (err) => {
  console.error(err);
  await browser?.close().catch(() => undefined);
  cleanupSync();
  process.exit(1);
});
