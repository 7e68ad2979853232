// The cluster explorer's cost for a big cluster: 1,000 topics × 3 partitions on a real single-broker mini-cluster
// (dist/cli.js), built with the extension's vscode-free tree model (src/extension/tree) — every node model, label,
// description and tooltip — for the embedded cluster's source (control state + offsets from the broker) and for a
// saved connection's source (everything through Kafka admin requests).
//
//   node esbuild.mjs && node dist/bench/extension-tree.js     [TOPICS=1000 PARTITIONS=3 RUNS=5]
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
import { ClusterTreeModel, snapshotTree, TreeSnapshotNode } from '../src/extension/tree/model';
import type { TreeCluster, TreeNode } from '../src/extension/tree/node';
import { CLI, machineInfo, machineLine, median, renderTable, runBench, tempDir, writeResults } from './lib';

const TOPICS = Number(process.env.TOPICS ?? 1000);
const PARTITIONS = Number(process.env.PARTITIONS ?? 3);
const RUNS = Number(process.env.RUNS ?? 5);

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

runBench('extension-tree', 15 * 60_000, async () => {
  console.log(machineLine(machineInfo()));
  const dir = tempDir('minikafka-bench-tree-');
  // Started the way the extension starts it: dist/cli.js detached, ready once every broker is registered and unfenced.
  const embedded = new EmbeddedCluster(() => ({ dir, brokers: 1, basePort: 0, extraArgs: ['--log-level', 'warn', '--session-timeout-ms', '30000'] }), {
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
  console.log(`single-broker mini-cluster at ${bootstrap} (${CLI}, ${dir})`);

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
  cases.push(
    await measure(`embedded: cluster + folders + ${TOPICS.toLocaleString('en-US')} topic rows`, 'the three folders open: brokers and topics from the control state, groups by ListGroups', RUNS, async () =>
      counted(await snapshot(embeddedTree, collapsedTopics)),
    ),
  );
  cases.push(
    await measure('embedded: whole tree, every topic expanded', 'plus every partition row with offsets (two ListOffsets per leader broker, straight to the leaders)', RUNS, async () =>
      counted(await snapshot(embeddedTree, everything)),
    ),
  );
  cases.push(
    await measure(`external: cluster + folders + ${TOPICS.toLocaleString('en-US')} topic rows`, 'the three folders open: Metadata for brokers and all topics, ListGroups', RUNS, async () => counted(await snapshot(externalTree, collapsedTopics))),
  );
  cases.push(
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
  cases.push(
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

  embeddedSource.dispose();
  embeddedSession.dispose();
  externalSession.dispose();

  console.log('');
  console.log(`Explorer tree for ${TOPICS.toLocaleString('en-US')} topics × ${PARTITIONS} partitions (single broker, median of ${RUNS} runs)`);
  console.log(
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
    brokers: 1,
    runs: RUNS,
    createTopicsMs: Number(createMs.toFixed(1)),
    cases,
  });
  console.log(`\nwrote ${file}`);
}
