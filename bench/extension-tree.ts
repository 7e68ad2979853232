// The cluster explorer's cost for a big cluster: 1,000 topics × 3 partitions on a real mini-cluster (dist/cli.js,
// 3 brokers, RF 1), built with the extension's vscode-free tree model (src/extension/tree) — every node model,
// label, description and tooltip — for the embedded cluster's source (control state + offsets from the brokers) and
// for a saved connection's source (everything through Kafka admin requests). Then, with the tree open as a user has
// it: opening the view step by step, what each cluster event (a new topic, a broker killed, restarted) redraws and
// reads the old way (the whole cluster per burst) and the new way (the changed rows), and an idle minute.
//
//   node esbuild.mjs && node dist/bench/extension-tree.js     [TOPICS=1000 PARTITIONS=3 RUNS=5 BROKERS=3 IDLE_S=60
//                                                             EVENTS_ONLY=1 BENCH_TIMEOUT_MIN=15]
//
// Prints a table and writes bench/results/extension-tree.json. The time VS Code takes to activate the extension
// is measured inside VS Code by test/integration/tree.test.ts (bench/results/extension-activation.json).

import { performance } from 'node:perf_hooks';
import { ClusterAdmin } from '../src/client/admin';
import { nopLogger } from '../src/broker/logger';
import { AdminSession, mapLimit } from '../src/extension/model/adminSession';
import { EmbeddedCluster } from '../src/extension/model/embedded';
import { EmbeddedSource, ExternalSource } from '../src/extension/model/sources';
import type { ClusterSource } from '../src/extension/model/types';
import { summarizeState } from '../src/extension/model/health';
import { ClusterTreeModel, redraw, snapshotTree, TreeSnapshotNode } from '../src/extension/tree/model';
import type { TreeCluster, TreeNode } from '../src/extension/tree/node';
import { CLI, machineInfo, machineLine, median, renderTable, runBench, tempDir, writeResults } from './lib';

const TOPICS = Number(process.env.TOPICS ?? 1000);
const PARTITIONS = Number(process.env.PARTITIONS ?? 3);
const RUNS = Number(process.env.RUNS ?? 5);
/** Brokers of the mini-cluster (3: a failover can be measured); topics have replication factor 1 (creation speed). */
const BROKERS = Number(process.env.BROKERS ?? 3);
/** Seconds of the idle measurement with the tree open. */
const IDLE_S = Number(process.env.IDLE_S ?? 60);
/** The classic cases (whole trees, external source); EVENTS_ONLY=1 skips them. */
const CLASSIC = process.env.EVENTS_ONLY !== '1';

function count(nodes: TreeSnapshotNode[]): number {
  return nodes.reduce((n, x) => n + 1 + (x.children ? count(x.children) : 0), 0);
}

/** Partition rows that show offsets (rows without them had their offsets time out). */
function withOffsets(nodes: TreeSnapshotNode[]): number {
  return nodes.reduce((n, x) => n + (x.kind === 'partition' && /offsets \d+–\d+/.test(x.description ?? '') ? 1 : 0) + (x.children ? withOffsets(x.children) : 0), 0);
}

let lastOffsetRows = 0;
function counted(tree: TreeSnapshotNode[]): number {
  lastOffsetRows = withOffsets(tree);
  return count(tree);
}

function treeCluster(id: string, kind: 'embedded' | 'external', source: ClusterSource, bootstrap: string, summary?: () => ReturnType<typeof summarizeState> | undefined): TreeCluster {
  return {
    id,
    kind,
    label: kind === 'embedded' ? 'Mini-cluster' : 'Saved connection',
    status: () => (kind === 'embedded' ? 'running' : 'external'),
    bootstrap: () => bootstrap,
    details: () => [],
    lastError: () => undefined,
    source: () => source,
    ...(summary ? { summary } : {}),
  };
}

interface Case {
  case: string;
  what: string;
  nodes: number;
  /** Partition rows with offsets, per run. */
  offsetRows: number[];
  runsMs: number[];
  medianMs: number;
}

async function measure(name: string, what: string, runs: number, build: () => Promise<number>): Promise<Case> {
  const runsMs: number[] = [];
  const offsetRows: number[] = [];
  let nodes = 0;
  await build(); // warm-up run, not counted (first connections, JIT, the broker's caches)
  for (let i = 0; i < runs; i++) {
    lastOffsetRows = 0;
    const t0 = performance.now();
    nodes = await build();
    runsMs.push(performance.now() - t0);
    offsetRows.push(lastOffsetRows);
  }
  const c = { case: name, what, nodes, offsetRows, runsMs: runsMs.map((x) => Number(x.toFixed(2))), medianMs: Number(median(runsMs).toFixed(2)) };
  console.log(`  ${name}: ${nodes} nodes, median ${c.medianMs} ms (runs ${c.runsMs.join(', ')}; partition rows with offsets ${offsetRows.join(', ')})`);
  return c;
}

/** The watchdog: creating thousands of topics alone takes minutes on this mini-cluster (issue 12). */
const TIMEOUT_MIN = Number(process.env.BENCH_TIMEOUT_MIN ?? 15);

runBench('extension-tree', TIMEOUT_MIN * 60_000, async () => {
  console.log(machineLine(machineInfo()));
  const dir = tempDir('minikafka-bench-tree-');
  // Started the way the extension starts it: dist/cli.js detached, ready once every broker is registered and unfenced.
  const embedded = new EmbeddedCluster(() => ({ dir, brokers: BROKERS, basePort: 0, extraArgs: ['--log-level', 'warn', '--session-timeout-ms', '30000'] }), {
    cliPath: CLI,
    execPath: process.execPath,
    logger: nopLogger,
    startTimeoutMs: 60000,
  });
  process.on('exit', () => {
    // Whatever happened: the supervisor leads its own process group.
    const pid = embedded.info?.pid;
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  try {
    await run(dir, embedded);
  } finally {
    await embedded.stop();
    embedded.dispose();
  }
});

async function run(dir: string, embedded: EmbeddedCluster): Promise<void> {
  const machine = machineInfo();
  const state = await embedded.start();
  const bootstrap = state.bootstrap;
  console.log(`${BROKERS}-broker mini-cluster at ${bootstrap} (${CLI}, ${dir})`);

  // Topics through src/client, many in flight.
  const admin = new ClusterAdmin({ bootstrapServers: bootstrap.split(','), requestTimeoutMs: 60000 });
  await admin.connect();
  const names = Array.from({ length: TOPICS }, (_, i) => `bench-topic-${String(i).padStart(4, '0')}`);
  const c0 = performance.now();
  await mapLimit(names, 8, (name) => admin.createTopic({ name, partitions: PARTITIONS, replicationFactor: 1 }));
  const createMs = performance.now() - c0;
  await admin.disconnect();
  console.log(`created ${TOPICS} topics × ${PARTITIONS} partitions in ${(createMs / 1000).toFixed(1)} s`);

  const embeddedSession = new AdminSession(async () => ({ bootstrapServers: bootstrap.split(',') }));
  const externalSession = new AdminSession(async () => ({ bootstrapServers: bootstrap.split(','), requestTimeoutMs: 60000 }));
  const embeddedSource = new EmbeddedSource(embeddedSession, () => embedded.state);
  const embeddedTree = treeCluster('embedded', 'embedded', embeddedSource, bootstrap, () =>
    embedded.state ? summarizeState(embedded.state, false) : undefined,
  );
  const externalTree = treeCluster('conn-bench', 'external', new ExternalSource(externalSession), bootstrap);
  const options = () => ({ showInternalTopics: false });

  const snapshot = (c: TreeCluster, expand: (n: TreeNode) => boolean) => {
    const model = new ClusterTreeModel(() => [c], options);
    return snapshotTree((n) => model.children(n), (n) => model.item(n), { expand });
  };
  const collapsedTopics = (n: TreeNode) => n.kind === 'cluster' || n.kind === 'folder';
  const everything = () => true;

  const cases: Case[] = [];
  console.log('measuring:');
  if (CLASSIC) cases.push(
    await measure(`embedded: cluster + folders + ${TOPICS.toLocaleString('en-US')} topic rows`, 'the three folders open: brokers and topics from the control state, groups by ListGroups', RUNS, async () =>
      counted(await snapshot(embeddedTree, collapsedTopics)),
    ),
  );
  if (CLASSIC) cases.push(
    await measure('embedded: whole tree, every topic expanded', 'plus every partition row with offsets (two ListOffsets per leader broker, straight to the leaders)', RUNS, async () =>
      counted(await snapshot(embeddedTree, everything)),
    ),
  );
  if (CLASSIC) cases.push(
    await measure(`external: cluster + folders + ${TOPICS.toLocaleString('en-US')} topic rows`, 'the three folders open: Metadata for brokers and all topics, ListGroups', RUNS, async () => counted(await snapshot(externalTree, collapsedTopics))),
  );
  if (CLASSIC) cases.push(
    await measure('external: whole tree, every topic expanded', 'plus every partition row with offsets (Metadata + kafkajs ListOffsets per topic)', RUNS, async () => counted(await snapshot(externalTree, everything))),
  );

  // Presentation alone (labels, descriptions, tooltips, context values) for every node of the full tree, from
  // node models already built: the part VS Code's getTreeItem calls cost.
  const model = new ClusterTreeModel(() => [embeddedTree], options);
  const allNodes: TreeNode[] = [];
  const collect = async (n?: TreeNode): Promise<void> => {
    const kids = await model.children(n);
    allNodes.push(...kids);
    await Promise.all(kids.map((k) => collect(k)));
  };
  await collect();
  if (CLASSIC) cases.push(
    await measure('presentation only: item() of every node', 'labels, descriptions, tooltips, icons, context values (pure CPU)', RUNS * 4, async () => {
      let chars = 0;
      for (const n of allNodes) {
        const it = model.item(n);
        chars += it.label.length + (it.description?.length ?? 0) + (it.tooltip?.length ?? 0);
      }
      if (chars === 0) throw new Error('empty presentation');
      return allNodes.length;
    }),
  );

  const events = await measureEvents(embedded, embeddedSource, embeddedTree, options);

  embeddedSource.dispose();
  embeddedSession.dispose();
  externalSession.dispose();

  console.log('');
  console.log(`Explorer tree for ${TOPICS.toLocaleString('en-US')} topics × ${PARTITIONS} partitions (${BROKERS} brokers, median of ${RUNS} runs)`);
  if (cases.length > 0) console.log(
    renderTable(
      ['case', 'nodes', 'median', 'per node', 'rows with offsets'],
      cases.map((c) => [
        c.case,
        c.nodes.toLocaleString('en-US'),
        `${c.medianMs.toFixed(1)} ms`,
        `${((c.medianMs * 1000) / c.nodes).toFixed(1)} µs`,
        c.offsetRows.some((n) => n > 0) ? `${Math.min(...c.offsetRows)}–${Math.max(...c.offsetRows)}` : '—',
      ]),
      [false, true, true, true, true],
    ),
  );
  const file = writeResults('extension-tree', {
    name: 'extension-tree',
    date: new Date().toISOString(),
    machine,
    topics: TOPICS,
    partitionsPerTopic: PARTITIONS,
    brokers: BROKERS,
    replicationFactor: 1,
    runs: RUNS,
    createTopicsMs: Number(createMs.toFixed(1)),
    cases,
    ...events,
  });
  console.log(`\nwrote ${file}`);
}

// ---- What the explorer does per cluster event and at idle: the old design (every burst of events redraws the
// whole cluster) next to the new one (only the rows whose control state changed), on the same tree and states.

interface EventCase {
  event: string;
  /** State updates the event stream delivered for it. */
  stateUpdates: number;
  before: Redrawn;
  after: Redrawn;
}

interface Redrawn {
  nodesFired: number;
  getChildren: number;
  rows: number;
  /** Reads the tree asked its source for (each topic() is offsets from the leaders; groups, transactions, acls are admin requests). */
  reads: Record<string, number>;
  ms: number;
}

/** The source with every method call counted by name. */
function counting(src: ClusterSource, calls: Map<string, number>): ClusterSource {
  return new Proxy(src, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function quiet(embedded: EmbeddedCluster, quietMs: number, maxMs: number): Promise<void> {
  let last = Date.now();
  const on = () => (last = Date.now());
  embedded.on('state', on);
  const t0 = Date.now();
  while (Date.now() - last < quietMs && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, 100));
  embedded.off('state', on);
}

async function measureEvents(embedded: EmbeddedCluster, source: EmbeddedSource, base: TreeCluster, options: () => { showInternalTopics: boolean }) {
  const calls = new Map<string, number>();
  const tc: TreeCluster = { ...base, source: () => counting(source, calls), controlState: () => embedded.state };
  const model = new ClusterTreeModel(() => [tc], options);
  const cluster = model.roots()[0];
  const openTopics = new Set(Array.from({ length: 10 }, (_, i) => `bench-topic-${String(Math.floor((i * TOPICS) / 10)).padStart(4, '0')}`));
  const expanded = (n: TreeNode) => n.kind === 'cluster' || n.kind === 'folder' || (n.kind === 'topic' && openTopics.has(n.topic));
  const reads = () => Object.fromEntries([...calls].filter(([, n]) => n > 0));
  const timed = async (nodes: TreeNode[] | undefined, isOpen: (n: TreeNode) => boolean): Promise<Redrawn> => {
    calls.clear();
    const t0 = performance.now();
    const w = await redraw(model, nodes, isOpen);
    return { nodesFired: nodes?.length ?? 1, getChildren: w.children, rows: w.items, reads: reads(), ms: Number((performance.now() - t0).toFixed(1)) };
  };

  // Opening the view step by step (first draws: connections already open from the cases above).
  const opening: Array<{ step: string } & Redrawn> = [];
  opening.push({ step: 'cluster + folders (Topics collapsed)', ...(await timed(undefined, (n) => n.kind === 'cluster')) });
  const folders = await model.children(cluster);
  const folderOf = (f: string) => folders.find((n) => n.kind === 'folder' && n.folder === f)!;
  const topicsFolder = folderOf('topics');
  opening.push({ step: `expand Topics (${TOPICS.toLocaleString('en-US')} rows)`, ...(await timed([topicsFolder], (n) => n === topicsFolder)) });
  const aTopic = (await model.children(topicsFolder))[Math.floor(TOPICS / 2)];
  opening.push({ step: 'expand a topic (its offsets from the leaders)', ...(await timed([aTopic], (n) => n === aTopic)) });
  const txFolder = folderOf('transactions');
  await new Promise((r) => setTimeout(r, 1100)); // past the shared read's reuse
  opening.push({ step: `expand Transactions (DescribeProducers over ${(TOPICS * PARTITIONS).toLocaleString('en-US')} partitions)`, ...(await timed([txFolder], (n) => n === txFolder)) });
  for (const o of opening) console.log(`  open: ${o.step}: ${o.ms} ms, ${o.rows} rows, reads ${JSON.stringify(o.reads)}`);

  const admin = new ClusterAdmin({ bootstrapServers: embedded.state!.bootstrap.split(','), requestTimeoutMs: 60000 });
  await admin.connect();
  const victim = BROKERS > 1 ? BROKERS : undefined;
  const steps: Array<[string, () => Promise<void>]> = [
    ['a topic created', () => admin.createTopic({ name: 'bench-zz-new', partitions: PARTITIONS, replicationFactor: 1 })],
    ...(victim
      ? ([
          [`broker ${victim} killed (its leaderships go offline with RF 1)`, async () => void (await embedded.brokerAction(victim, 'kill'))],
          [`broker ${victim} restarted`, async () => void (await embedded.brokerAction(victim, 'restart'))],
        ] as Array<[string, () => Promise<void>]>)
      : []),
  ];
  const events: EventCase[] = [];
  for (const [name, act] of steps) {
    await new Promise((r) => setTimeout(r, 1100));
    await redraw(model, undefined, expanded); // what the view shows before the event
    let updates = 0;
    const on = () => updates++;
    embedded.on('state', on);
    await act();
    await quiet(embedded, 1500, 30000);
    embedded.off('state', on);
    const changed = model.changedNodes(cluster.clusterId);
    const after = await timed(changed === 'all' ? [cluster] : changed, expanded);
    await new Promise((r) => setTimeout(r, 1100)); // the Transactions read is not reused across the two
    const before = await timed([cluster], expanded);
    events.push({ event: name, stateUpdates: updates, before, after });
    console.log(`  event: ${name}: ${updates} state updates; before ${JSON.stringify(before)}; after ${JSON.stringify(after)}`);
  }
  await admin.disconnect();

  // Idle with the tree open: bursts of state updates as the provider sees them (200 ms debounce), each redrawn the
  // new way; the old way would have redrawn the whole cluster per burst.
  await quiet(embedded, 3000, 60000);
  await redraw(model, undefined, expanded);
  let bursts = 0;
  let updates = 0;
  let pending = false;
  const idleReads = new Map<string, number>();
  let idleRows = 0;
  const onState = () => {
    updates++;
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      bursts++;
      const changed = model.changedNodes(cluster.clusterId);
      void timed(changed === 'all' ? [cluster] : changed, expanded).then((r) => {
        idleRows += r.rows;
        for (const [k, v] of Object.entries(r.reads)) idleReads.set(k, (idleReads.get(k) ?? 0) + v);
      });
    }, 200);
  };
  const full = await timed([cluster], expanded);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  embedded.on('state', onState);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  embedded.off('state', onState);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const idle = {
    seconds: IDLE_S,
    stateUpdates: updates,
    bursts,
    after: { rows: idleRows, reads: Object.fromEntries(idleReads), cpuPercentOfOneCore: Number((((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(2)) },
    beforeEstimate: { rows: bursts * full.rows, reads: Object.fromEntries(Object.entries(full.reads).map(([k, v]) => [k, v * bursts])), wholeClusterRedrawMs: full.ms },
  };
  console.log(`  idle ${IDLE_S} s: ${JSON.stringify(idle)}`);

  console.log('');
  console.log(`Opening the explorer (${TOPICS.toLocaleString('en-US')} topics × ${PARTITIONS} partitions, ${BROKERS} brokers)`);
  console.log(renderTable(['step', 'rows', 'reads', 'time'], opening.map((o) => [o.step, String(o.rows), fmtReads(o.reads), `${o.ms} ms`]), [false, true, false, true]));
  console.log('');
  console.log('Per event, tree open (all folders, 10 topics expanded): whole-cluster redraw (before) vs changed rows (after)');
  console.log(
    renderTable(
      ['event', 'updates', 'before: rows', 'reads', 'time', 'after: nodes fired', 'rows', 'reads', 'time'],
      events.map((e) => [e.event, String(e.stateUpdates), String(e.before.rows), fmtReads(e.before.reads), `${e.before.ms} ms`, String(e.after.nodesFired), String(e.after.rows), fmtReads(e.after.reads), `${e.after.ms} ms`]),
      [false, true, true, false, true, true, true, false, true],
    ),
  );
  console.log(`idle ${IDLE_S} s: ${updates} state updates in ${bursts} bursts; after: ${idleRows} rows redrawn, reads ${fmtReads(idle.after.reads)}, bench process CPU ${idle.after.cpuPercentOfOneCore}% of one core; before (estimated, ${full.ms} ms each): ${idle.beforeEstimate.rows} rows, reads ${fmtReads(idle.beforeEstimate.reads)}`);
  return { opening, events, idle };
}

function fmtReads(r: Record<string, number>): string {
  const e = Object.entries(r);
  return e.length === 0 ? '—' : e.map(([k, v]) => `${k} ${v}`).join(', ');
}
