// The explorer at scale: 1,000 topics × 3 partitions (RF 3 on 3 brokers). A burst of cluster events must redraw
// only the rows it changed: a leader move one topic, a new topic the Topics folder, a failover the Brokers and
// Topics folders; never Groups, Transactions or ACLs (admin requests), and expanded topics re-read their offsets
// only when they are among the changed rows. The source counts every read it is asked for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { ClusterState } from '../../../src/broker/cluster/supervisor';
import type { TopicDescription } from '../../../src/client/admin';
import { summarizeState } from '../../../src/extension/model/health';
import { brokerRowOf, topicsOfState } from '../../../src/extension/model/sources';
import type { ClusterSource, EmbeddedStatus } from '../../../src/extension/model/types';
import { stateChanges } from '../../../src/extension/tree/changes';
import { ClusterTreeModel, redraw } from '../../../src/extension/tree/model';
import type { TreeCluster, TreeNode } from '../../../src/extension/tree/node';

const TOPICS = 1000;

function bigState(topics = TOPICS): ClusterState {
  return {
    clusterId: 'big',
    dir: '/tmp/none',
    bootstrap: '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3',
    controllerId: 1,
    metadataEpoch: 1,
    brokers: [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: id, pid: 100 + id, state: 'running' as const, fenced: false, isController: id === 1, exitCode: null, signal: null })),
    supervisor: { pid: 99, startedAt: 1, adopted: false },
    topics: Array.from({ length: topics }, (_, i) => ({
      name: `t-${String(i).padStart(4, '0')}`,
      id: `id-${i}`,
      internal: false,
      configs: {},
      partitions: [0, 1, 2].map((p) => {
        const replicas = [1, 2, 3].map((_, k) => ((i + p + k) % 3) + 1);
        return { partition: p, replicas, isr: [...replicas], leader: replicas[0], leaderEpoch: 0, partitionEpoch: 0, addingReplicas: [], removingReplicas: [] };
      }),
    })),
  };
}

/** A fresh copy, as the event stream delivers it (every object new). */
const copy = (s: ClusterState): ClusterState => JSON.parse(JSON.stringify(s)) as ClusterState;

interface Counts {
  topics: number;
  topic: number;
  groups: number;
  transactions: number;
  acls: number;
  logDirs: number;
  brokers: number;
}

function fixture() {
  let state = bigState();
  let status: EmbeddedStatus = 'running';
  const calls: Counts = { topics: 0, topic: 0, groups: 0, transactions: 0, acls: 0, logDirs: 0, brokers: 0 };
  const source: ClusterSource = {
    kind: 'embedded',
    brokers: async () => (calls.brokers++, state.brokers.map(brokerRowOf)),
    controller: async () => ({ pid: 99, startedAt: 1, adopted: false }),
    topics: async () => (calls.topics++, topicsOfState(state)),
    topic: async (name): Promise<TopicDescription> => {
      calls.topic++;
      const t = topicsOfState({ ...state, topics: state.topics.filter((x) => x.name === name) })[0];
      return { ...t, partitions: t.partitions.map((p) => ({ ...p, low: '0', high: '10' })) };
    },
    groups: async () => (calls.groups++, []),
    groupOffsets: async () => {
      throw new Error('no groups');
    },
    transactions: async () => (calls.transactions++, { listed: [], open: [], orphans: [] }),
    openTransactionsOn: async () => new Map(),
    acls: async () => (calls.acls++, { enabled: true as const, acls: [] }),
    logDirs: async () => (calls.logDirs++, []),
  };
  const cluster: TreeCluster = {
    id: 'embedded',
    kind: 'embedded',
    label: 'Mini-cluster',
    status: () => status,
    bootstrap: () => state.bootstrap,
    details: () => [],
    lastError: () => undefined,
    source: () => source,
    summary: () => summarizeState(state, false),
    controlState: () => state,
  };
  const model = new ClusterTreeModel(() => [cluster], () => ({ showInternalTopics: false }));
  // What a user has open: every folder, and 10 topics.
  const openTopics = new Set(Array.from({ length: 10 }, (_, i) => `t-${String(i * 97).padStart(4, '0')}`));
  const expanded = (n: TreeNode) => n.kind === 'cluster' || n.kind === 'folder' || (n.kind === 'topic' && openTopics.has(n.topic));
  const reset = () => Object.keys(calls).forEach((k) => (calls[k as keyof Counts] = 0));
  return {
    model,
    calls,
    expanded,
    reset,
    openTopics,
    get state() {
      return state;
    },
    set: (s: ClusterState) => (state = s),
    setStatus: (s: EmbeddedStatus) => (status = s),
  };
}

/** Draws the tree as the view shows it, applies a change, and redraws what the model says changed. */
async function afterEvent(f: ReturnType<typeof fixture>, change: (s: ClusterState) => void) {
  await redraw(f.model, undefined, f.expanded);
  assert.equal(f.calls.topic, f.openTopics.size, 'the first draw reads the open topics');
  const next = copy(f.state);
  change(next);
  f.set(next);
  f.reset();
  const nodes = f.model.changedNodes('embedded');
  assert.notEqual(nodes, 'all');
  const work = await redraw(f.model, nodes as TreeNode[], f.expanded);
  return { nodes: nodes as TreeNode[], work, calls: { ...f.calls } };
}

describe('explorer at 1,000 topics × 3 partitions: what one event redraws', () => {
  it('a full redraw (what every event cost before): all folders, 1,000 topic rows, every open topic and the admin reads', async () => {
    const f = fixture();
    await redraw(f.model, undefined, f.expanded);
    f.reset();
    const work = await redraw(f.model, [f.model.clusterNode('embedded')!], f.expanded);
    assert.equal(f.calls.topic, 10);
    assert.equal(f.calls.groups + f.calls.transactions + f.calls.acls, 3);
    assert.ok(work.items > 1000 + 30, `${work.items} rows`);
  });

  it('a leader move in one topic (ISR unchanged): that topic only, its offsets read once, nothing else', async () => {
    const f = fixture();
    const target = 't-0097'; // an open one
    const { nodes, work, calls } = await afterEvent(f, (s) => {
      const p = s.topics.find((t) => t.name === target)!.partitions[0];
      p.leader = p.replicas[1];
    });
    assert.deepEqual(nodes.map((n) => n.id), [`embedded/topics/${target}`]);
    assert.deepEqual(calls, { topics: 0, topic: 1, groups: 0, transactions: 0, acls: 0, logDirs: 0, brokers: 0 });
    assert.equal(work.children, 1);
    assert.equal(work.items, 1 + 3);
    // The node the view holds was updated in place: its row shows the new leader.
    const node = nodes[0] as Extract<TreeNode, { kind: 'topic' }>;
    assert.equal(node.partitions[0].leader, f.state.topics.find((t) => t.name === target)!.partitions[0].replicas[1]);
  });

  it('a leader move in a collapsed topic: its row only, no read', async () => {
    const f = fixture();
    const { nodes, calls, work } = await afterEvent(f, (s) => {
      const p = s.topics.find((t) => t.name === 't-0001')!.partitions[2];
      p.leader = p.replicas[2];
    });
    assert.deepEqual(nodes.map((n) => n.id), ['embedded/topics/t-0001']);
    assert.equal(calls.topic, 0);
    assert.deepEqual(work, { children: 0, items: 1 });
  });

  it('a new topic: the Topics folder (its 1,001 rows come from the control state; open topics re-read in one go), no Groups, Transactions or ACLs', async () => {
    const f = fixture();
    const { nodes, calls } = await afterEvent(f, (s) => {
      s.topics.push({ ...copy(bigState(1)).topics[0], name: 'zz-new' });
    });
    assert.deepEqual(nodes.map((n) => n.id), ['embedded/topics']);
    assert.deepEqual(calls, { topics: 1, topic: 10, groups: 0, transactions: 0, acls: 0, logDirs: 0, brokers: 0 });
  });

  it('a failover (broker 2 killed: fenced, its leaderships moved, ISRs shrunk): the Brokers and Topics folders, nothing else', async () => {
    const f = fixture();
    const { nodes, calls } = await afterEvent(f, (s) => {
      const b = s.brokers.find((x) => x.id === 2)!;
      Object.assign(b, { state: 'crashed', fenced: true, pid: null, signal: 'SIGKILL' });
      for (const t of s.topics) {
        for (const p of t.partitions) {
          p.isr = p.isr.filter((r) => r !== 2);
          if (p.leader === 2) p.leader = p.isr[0];
        }
      }
    });
    assert.deepEqual(nodes.map((n) => n.id).sort(), ['embedded/brokers', 'embedded/topics']);
    assert.equal(calls.groups + calls.transactions + calls.acls, 0);
    assert.equal(calls.topic, 10, 'each open topic once');
  });

  it('a broker paused (no metadata change yet): the Brokers folder, and the Topics folder once (not 1,000 topics) since every topic has a replica on it', async () => {
    const f = fixture();
    const { nodes, calls } = await afterEvent(f, (s) => {
      s.brokers.find((x) => x.id === 3)!.state = 'paused';
    });
    // Paused counts as not up: every partition row's "replicas on brokers that are down" changes.
    assert.deepEqual(nodes.map((n) => n.id).sort(), ['embedded/brokers', 'embedded/topics']);
    assert.equal(calls.groups + calls.transactions + calls.acls, 0);
  });

  it('a state with nothing visible changed (a new metadata epoch only): nothing', async () => {
    const f = fixture();
    const { nodes, calls } = await afterEvent(f, (s) => {
      s.metadataEpoch++;
    });
    assert.deepEqual(nodes, []);
    assert.deepEqual(Object.values(calls), [0, 0, 0, 0, 0, 0, 0]);
  });

  it('a lifecycle change (stopping) redraws the whole cluster', async () => {
    const f = fixture();
    await redraw(f.model, undefined, f.expanded);
    f.setStatus('stopping');
    assert.equal(f.model.changedNodes('embedded'), 'all');
  });

  it('with the Topics folder never opened, a change in a topic redraws nothing', async () => {
    const f = fixture();
    await redraw(f.model, undefined, (n) => n.kind === 'cluster');
    const next = copy(f.state);
    next.topics[5].partitions[0].leader = next.topics[5].partitions[0].replicas[1];
    f.set(next);
    assert.deepEqual(f.model.changedNodes('embedded'), []);
  });

  it('compares 3,000 partitions fast enough to run on every burst', () => {
    const a = bigState();
    const b = copy(a);
    b.topics[500].partitions[1].isr = [b.topics[500].partitions[1].replicas[0]];
    stateChanges(a, b, false); // warm-up
    const t0 = performance.now();
    const runs = 20;
    for (let i = 0; i < runs; i++) stateChanges(a, b, false);
    const ms = (performance.now() - t0) / runs;
    const ch = stateChanges(a, b, false);
    assert.deepEqual([...ch.topics], ['t-0500']);
    assert.equal(ch.topicList, true, 'the under-replicated count changed');
    assert.equal(ch.brokers, false);
    console.log(`      stateChanges over 3,000 partitions: ${ms.toFixed(2)} ms`);
    assert.ok(ms < 50, `${ms} ms`);
  });

  it('Filter Topics… narrows the 1,000 rows by name, says so on the folder, and offers to clear a filter nothing matches', async () => {
    const f = fixture();
    await redraw(f.model, undefined, (n) => n.kind === 'cluster');
    const folder = f.model.setTopicFilter('embedded', ' T-09 ');
    assert.equal(folder?.id, 'embedded/topics');
    const rows = await f.model.children(folder);
    assert.equal(rows.length, 100, 't-0900 … t-0999');
    assert.ok(rows.every((r) => r.kind === 'topic' && r.topic.startsWith('t-09')));
    assert.equal(f.model.item(folder!).description, '1000 topics · filter "T-09"');
    f.model.setTopicFilter('embedded', 'nope');
    const none = await f.model.children(folder);
    assert.equal(none.length, 1);
    const it0 = f.model.item(none[0]);
    assert.match(it0.label, /No topic name contains "nope" \(of 1000 topics\)/);
    assert.deepEqual(it0.command?.arguments, [{ clusterId: 'embedded' }, { filter: '' }]);
    f.model.setTopicFilter('embedded', '');
    assert.equal((await f.model.children(folder)).length, 1000);
    assert.equal(f.model.item(folder!).description, '1000 topics');
  });
});
