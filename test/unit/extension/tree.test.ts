// The explorer's vscode-free model: node kinds, labels, descriptions, marks, context values and placeholders,
// with a fake cluster source.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AclBindingInfo, GroupOffsets, LogDirInfo, TopicDescription } from '../../../src/client/admin';
import type { TransactionsOverview } from '../../../src/extension/model/transactions';
import { findOrphans, hangingReason } from '../../../src/extension/model/transactions';
import type { BrokerRow, ClusterSource, ControllerRow, GroupSummary } from '../../../src/extension/model/types';
import { ClusterTreeModel, snapshotTree, TreeSnapshotNode } from '../../../src/extension/tree/model';
import type { TreeCluster } from '../../../src/extension/tree/node';
import { topicsOfState, brokerRowOf } from '../../../src/extension/model/sources';
import type { ClusterState } from '../../../src/broker/cluster/supervisor';
import { summarizeState } from '../../../src/extension/model/health';

const state: ClusterState = {
  clusterId: 'c1',
  dir: '/tmp/x',
  bootstrap: '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3',
  controllerId: 1,
  metadataEpoch: 7,
  brokers: [
    { id: 1, host: '127.0.0.1', port: 1, pid: 11, state: 'running', fenced: false, isController: true, exitCode: null, signal: null },
    { id: 2, host: '127.0.0.1', port: 2, pid: null, state: 'crashed', fenced: true, isController: false, exitCode: null, signal: 'SIGKILL' },
    { id: 3, host: '127.0.0.1', port: 3, pid: 13, state: 'paused', fenced: false, isController: false, exitCode: null, signal: null },
  ],
  topics: [
    {
      name: 'orders',
      id: 't1',
      internal: false,
      configs: {},
      partitions: [
        { partition: 0, replicas: [2, 1, 3], isr: [1, 3], leader: 1, leaderEpoch: 2, partitionEpoch: 3, addingReplicas: [], removingReplicas: [] },
        { partition: 1, replicas: [1, 3, 2], isr: [1, 3, 2], leader: 1, leaderEpoch: 1, partitionEpoch: 1, addingReplicas: [], removingReplicas: [] },
      ],
    },
    {
      name: 'lonely',
      id: 't2',
      internal: false,
      configs: {},
      partitions: [{ partition: 0, replicas: [2], isr: [2], leader: -1, leaderEpoch: 1, partitionEpoch: 2, addingReplicas: [], removingReplicas: [] }],
    },
    {
      name: '__consumer_offsets',
      id: 't3',
      internal: true,
      configs: {},
      partitions: [{ partition: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0, addingReplicas: [], removingReplicas: [] }],
    },
  ],
};

const groupOffsets: GroupOffsets = {
  group: {
    groupId: 'billing',
    state: 'Stable',
    protocolType: 'consumer',
    protocol: 'range',
    members: [{ memberId: 'm-1', clientId: 'app-1', host: '/10.0.0.5', assignment: { orders: [1, 0] } }],
  },
  partitions: [
    { topic: 'orders', partition: 0, committedOffset: '10', endOffset: '57', lag: '47', owner: { memberId: 'm-1', clientId: 'app-1', host: '/10.0.0.5' } },
    { topic: 'orders', partition: 1, committedOffset: '5', endOffset: '5', lag: '0', owner: { memberId: 'm-1', clientId: 'app-1', host: '/10.0.0.5' } },
  ],
};

class FakeSource implements ClusterSource {
  kind: 'embedded' | 'external' = 'embedded';
  failTopics: Error | undefined;
  groupsList: GroupSummary[] = [{ groupId: 'billing', state: 'Stable', protocolType: 'consumer', members: 1, totalLag: '47' }];
  async brokers(): Promise<BrokerRow[]> {
    return state.brokers.map(brokerRowOf);
  }
  async topics(): Promise<TopicDescription[]> {
    if (this.failTopics) throw this.failTopics;
    return topicsOfState(state);
  }
  async topic(name: string): Promise<TopicDescription> {
    const t = topicsOfState(state).find((x) => x.name === name)!;
    if (name === 'orders') Object.assign(t.partitions[0], { low: '0', high: '57' });
    return t;
  }
  async groups(): Promise<GroupSummary[]> {
    return this.groupsList;
  }
  async groupOffsets(): Promise<GroupOffsets> {
    return groupOffsets;
  }
  txns: TransactionsOverview = { listed: [], open: [], orphans: [] };
  async transactions(): Promise<TransactionsOverview> {
    return this.txns;
  }
  explained = new Map<number, string>();
  async openTransactionsOn(): Promise<Map<number, string>> {
    return this.explained;
  }
  aclList: AclBindingInfo[] | undefined = undefined;
  async acls() {
    return this.aclList ? { enabled: true as const, acls: this.aclList } : { enabled: false as const, reason: 'Security features are disabled.' };
  }
  dirs: LogDirInfo[] = [];
  async logDirs(): Promise<LogDirInfo[]> {
    return this.dirs;
  }
}

function fakeCluster(source: FakeSource | undefined, status: 'running' | 'stopped' | 'external' = 'running', error?: string): TreeCluster {
  return {
    id: status === 'external' ? 'conn-x' : 'embedded',
    kind: status === 'external' ? 'external' : 'embedded',
    label: status === 'external' ? 'X' : 'Mini-cluster',
    status: () => status,
    bootstrap: () => state.bootstrap,
    details: () => [],
    lastError: () => error,
    source: () => source,
    summary: () => (status === 'running' ? summarizeState(state, false) : undefined),
  };
}

function find(nodes: TreeSnapshotNode[], pred: (n: TreeSnapshotNode) => boolean): TreeSnapshotNode | undefined {
  for (const n of nodes) {
    if (pred(n)) return n;
    const inner = n.children && find(n.children, pred);
    if (inner) return inner;
  }
  return undefined;
}

async function snapshot(clusters: TreeCluster[], showInternalTopics = false): Promise<TreeSnapshotNode[]> {
  const model = new ClusterTreeModel(() => clusters, () => ({ showInternalTopics }));
  return snapshotTree((n) => model.children(n), (n) => model.item(n));
}

describe('cluster explorer model', () => {
  it('shows brokers with controller mark and process state; dead brokers stay', async () => {
    const tree = await snapshot([fakeCluster(new FakeSource())]);
    const cluster = tree[0];
    assert.equal(cluster.contextValue, 'cluster.embedded.running');
    assert.deepEqual(
      cluster.children!.map((c) => c.label),
      ['Brokers', 'Topics', 'Consumer groups', 'Transactions', 'ACLs'],
    );
    const brokers = cluster.children![0];
    assert.equal(brokers.description, '1/3 up');
    assert.deepEqual(
      brokers.children!.map((b) => [b.label, b.description, b.contextValue]),
      [
        ['Broker 1', '127.0.0.1:1 · listed as controller · up', 'broker.up'],
        ['Broker 2', '127.0.0.1:2 · down (signal SIGKILL)', 'broker.down'],
        ['Broker 3', '127.0.0.1:3 · paused', 'broker.paused'],
      ],
    );
    assert.equal(brokers.children![1].iconColor, 'errorForeground');
  });

  it('shows the controller process (the supervisor) under Brokers, with Kill Controller on it', async () => {
    const source = new FakeSource();
    let controller: ControllerRow | undefined = { pid: 4242, startedAt: 0, adopted: false };
    Object.assign(source, { controller: async () => controller });
    let brokers = (await snapshot([fakeCluster(source)]))[0].children![0];
    const row = brokers.children!.at(-1)!;
    assert.deepEqual([row.label, row.description, row.contextValue], ['Controller', 'supervisor · pid 4242', 'controller.embedded']);
    controller = { pid: 4343, startedAt: 0, adopted: true };
    brokers = (await snapshot([fakeCluster(source)]))[0].children![0];
    assert.equal(brokers.children!.at(-1)!.description, 'supervisor · pid 4343 · adopted');
    assert.match(brokers.children!.at(-1)!.tooltip ?? '', /adopted the running brokers/);
    // A source without a controller (a cluster reached over Kafka admin requests) shows brokers only.
    brokers = (await snapshot([fakeCluster(new FakeSource())]))[0].children![0];
    assert.ok(brokers.children!.every((b) => b.label !== 'Controller'));
  });

  it('shows partitions with leader, replicas, ISR and offsets, marking offline and under-replicated ones', async () => {
    const tree = await snapshot([fakeCluster(new FakeSource())]);
    const topics = tree[0].children![1];
    assert.equal(topics.description, '2 topics · 1 offline · 1 under-replicated');
    assert.deepEqual(
      topics.children!.map((t) => t.label),
      ['lonely', 'orders'],
      'internal topics hidden by default',
    );
    const orders = topics.children!.find((t) => t.label === 'orders')!;
    assert.equal(orders.description, '2 partitions · RF 3 · 1 under-replicated');
    const [p0, p1] = orders.children!;
    assert.equal(p0.label, 'P0');
    assert.equal(p0.description, 'leader 1 · replicas 2,1,3 · isr 1,3 · offsets 0–57');
    assert.equal(p0.contextValue, 'partition.underReplicated.embedded');
    assert.equal(p0.icon, 'warning');
    assert.equal(p0.iconColor, 'list.warningForeground');
    assert.match(p0.tooltip!, /UNDER-REPLICATED: replica 2 is not in sync/);
    assert.match(p0.tooltip!, /preferred leader 2 \(not leading now\)/);
    assert.equal(p1.contextValue, 'partition.embedded');
    const lonely = find(tree, (n) => n.id === 'embedded/topics/lonely/0')!;
    assert.equal(lonely.description, 'leader none · replicas 2 · isr 2');
    assert.equal(lonely.contextValue, 'partition.offline.embedded');
    assert.equal(lonely.iconColor, 'errorForeground');
    assert.match(lonely.tooltip!, /OFFLINE: .*no leader/);
  });

  it('counts problems only of the topics it shows', () => {
    const withBadInternal: ClusterState = {
      ...state,
      topics: state.topics.map((t) => (t.internal ? { ...t, partitions: [{ ...t.partitions[0], replicas: [1, 2], isr: [1] }] } : t)),
    };
    assert.equal(summarizeState(withBadInternal, false).underReplicatedPartitions, 1);
    assert.equal(summarizeState(withBadInternal, true).underReplicatedPartitions, 2);
    assert.equal(summarizeState(withBadInternal, true).topics, 3);
  });

  it('shows internal topics when the setting says so', async () => {
    const tree = await snapshot([fakeCluster(new FakeSource())], true);
    const internal = find(tree, (n) => n.label === '__consumer_offsets')!;
    assert.equal(internal.contextValue, 'topic.internal');
  });

  it('shows groups with state and lag, then members and per-partition offsets', async () => {
    const tree = await snapshot([fakeCluster(new FakeSource())]);
    const group = find(tree, (n) => n.kind === 'group')!;
    assert.equal(group.label, 'billing');
    assert.equal(group.description, 'Stable · 1 member · lag 47');
    assert.equal(group.contextValue, 'group.active');
    const [member, o0, o1] = group.children!;
    assert.equal(member.label, 'app-1');
    assert.equal(member.description, '/10.0.0.5 · orders[0,1]');
    assert.equal(o0.label, 'orders P0');
    assert.equal(o0.description, 'committed 10 · end 57 · lag 47');
    assert.equal(o1.icon, 'check');
  });

  it('turns failures and empty folders into placeholder rows in words', async () => {
    const source = new FakeSource();
    source.failTopics = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    source.groupsList = [];
    const tree = await snapshot([fakeCluster(source)]);
    const topics = tree[0].children![1].children!;
    assert.equal(topics.length, 1);
    assert.equal(topics[0].contextValue, 'placeholder.error');
    assert.match(topics[0].label, /cannot reach .* is the cluster running\?/);
    const groups = tree[0].children![2].children!;
    assert.equal(groups[0].label, 'No consumer groups');
  });

  it('shows a stopped embedded cluster with its start failure and a start row', async () => {
    const tree = await snapshot([fakeCluster(undefined, 'stopped', 'the mini-cluster did not start (exit code 1):\nport in use')]);
    assert.equal(tree[0].contextValue, 'cluster.embedded.stopped');
    assert.equal(tree[0].description, 'stopped — failed');
    assert.deepEqual(
      tree[0].children!.map((c) => [c.label, c.contextValue]),
      [
        ['the mini-cluster did not start (exit code 1):', 'placeholder.error'],
        ['Not running — click to start', 'placeholder'],
      ],
    );
  });

  it('shows an unreachable external cluster as one error row plus an edit row', async () => {
    const source = new FakeSource();
    source.kind = 'external';
    source.brokers = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' });
    };
    const tree = await snapshot([fakeCluster(source, 'external')]);
    assert.equal(tree[0].contextValue, 'cluster.external');
    assert.deepEqual(
      tree[0].children!.map((c) => c.contextValue),
      ['placeholder.error', 'placeholder'],
    );
    assert.match(tree[0].children![0].label, /cannot resolve the host/);
  });

  it('keeps cluster node objects across calls (scoped refreshes match by identity)', async () => {
    const c = fakeCluster(new FakeSource());
    const model = new ClusterTreeModel(() => [c], () => ({ showInternalTopics: false }));
    const [a] = model.roots();
    const [b] = model.roots();
    assert.equal(a, b);
    assert.equal(model.clusterNode('embedded'), a);
  });

  it('gives every node a unique id', async () => {
    const tree = await snapshot([fakeCluster(new FakeSource())], true);
    const ids: string[] = [];
    const walk = (ns: TreeSnapshotNode[]) => ns.forEach((n) => (ids.push(n.id), n.children && walk(n.children)));
    walk(tree);
    assert.equal(new Set(ids).size, ids.length);
  });
  it('lists open transactions, hanging ones first and marked, with id, state, producer, age and partitions', async () => {
    const source = new FakeSource();
    const now = Date.now();
    const base = { coordinatorId: 1, producerEpoch: 2, state: 'Ongoing', partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }] };
    const fresh = { ...base, transactionalId: 'tx-fresh', producerId: 7, timeoutMs: 60000, startTimeMs: now - 5000 };
    const old = { ...base, transactionalId: 'tx-old', producerId: 8, timeoutMs: 1000, startTimeMs: now - 90_000 };
    const hanging = hangingReason(old, now)!;
    assert.match(hanging, /open for 1 min 30 s, longer than its transaction.timeout.ms \(1 s\)/);
    assert.equal(hangingReason(fresh, now), undefined);
    const onPartitions = [
      { topic: 'orders', partition: 0, producerId: 7, producerEpoch: 2, startOffset: 3, lastTimestamp: now - 60_000 },
      { topic: 'lonely', partition: 0, producerId: 99, producerEpoch: 0, startOffset: 12, lastTimestamp: now - 60_000 },
      { topic: 'lonely', partition: 0, producerId: 100, producerEpoch: 0, startOffset: 14, lastTimestamp: now - 1000 },
    ];
    const orphans = findOrphans([fresh, old], onPartitions, now);
    // Producer 7 is a coordinator's open transaction; 100 is within the grace period (markers may be in flight).
    assert.deepEqual(orphans.map((o) => o.producerId), [99]);
    source.txns = { listed: [], open: [fresh, { ...old, hanging }], orphans };
    const tree = await snapshot([fakeCluster(source)]);
    const folder = find(tree, (n) => n.id === 'embedded/transactions')!;
    assert.deepEqual(
      folder.children!.map((c) => [c.label, c.contextValue, c.icon]),
      [
        ['tx-old', 'transaction.hanging', 'warning'],
        ['producer 99', 'transaction.hanging', 'warning'],
        ['tx-fresh', 'transaction', 'git-pull-request-draft'],
      ],
    );
    assert.match(folder.children![0].description!, /^HANGING · Ongoing · pid 8 epoch 2 · 1 min 30 s · orders-0, orders-1$/);
    assert.match(folder.children![0].tooltip!, /HANGING: open for/);
    assert.match(folder.children![1].tooltip!, /no transaction coordinator reports as open/);
    assert.match(folder.children![2].description!, /^Ongoing · pid 7 epoch 2 · [56] s · orders-0, orders-1$/);
    source.txns = { listed: [{ transactionalId: 'done', coordinatorId: 1, producerId: 1, state: 'CompleteCommit' }], open: [], orphans: [] };
    const empty = find(await snapshot([fakeCluster(source)]), (n) => n.id === 'embedded/transactions')!;
    assert.deepEqual(empty.children!.map((c) => c.label), ['No open transactions (1 transactional id known)']);
  });

  it('says why a partition\'s LSO is behind its high watermark', async () => {
    const source = new FakeSource();
    const topic = source.topic.bind(source);
    source.topic = async (name) => {
      const t = await topic(name);
      if (name === 'orders') Object.assign(t.partitions[0], { stable: '40' });
      return t;
    };
    source.explained = new Map([[0, 'open transaction of tx-1 (producer 7, epoch 2) since 2026-01-01T00:00:00.000Z, from offset 40']]);
    const tree = await snapshot([fakeCluster(source)]);
    const p0 = find(tree, (n) => n.id === 'embedded/topics/orders/0')!;
    assert.match(p0.description!, /offsets 0–57 · LSO 40 < HW 57$/);
    assert.match(p0.tooltip!, /LSO 40 < HW 57: open transaction of tx-1 \(producer 7, epoch 2\) since 2026-01-01T00:00:00.000Z, from offset 40\. read_committed consumers stop at offset 40/);
    const p1 = find(tree, (n) => n.id === 'embedded/topics/orders/1')!;
    assert.doesNotMatch(p1.description ?? '', /LSO/);
  });

  it('lists ACLs, or says the cluster has no authorizer', async () => {
    const source = new FakeSource();
    let folder = find(await snapshot([fakeCluster(source)]), (n) => n.id === 'embedded/acls')!;
    assert.deepEqual(folder.children!.map((c) => [c.label, c.contextValue]), [['ACLs are off: the cluster has no authorizer', 'placeholder']]);
    assert.match(folder.children![0].tooltip!, /SECURITY_DISABLED/);
    source.aclList = [];
    folder = find(await snapshot([fakeCluster(source)]), (n) => n.id === 'embedded/acls')!;
    assert.deepEqual(folder.children!.map((c) => c.label), ['No ACLs — add one']);
    source.aclList = [
      { principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW', resourceType: 'TOPIC', resourceName: 'orders', patternType: 'LITERAL' },
      { principal: 'User:bob', host: '10.0.0.1', operation: 'WRITE', permission: 'DENY', resourceType: 'TOPIC', resourceName: 'ord', patternType: 'PREFIXED' },
    ];
    folder = find(await snapshot([fakeCluster(source)]), (n) => n.id === 'embedded/acls')!;
    assert.deepEqual(
      folder.children!.map((c) => [c.label, c.description, c.contextValue, c.icon]),
      [
        ['User:alice ALLOW READ', 'TOPIC orders · host *', 'acl', 'pass'],
        ['User:bob DENY WRITE', 'TOPIC ord (prefixed) · host 10.0.0.1', 'acl', 'circle-slash'],
      ],
    );
  });

  it('shows log directories and partition sizes under a running broker', async () => {
    const source = new FakeSource();
    source.dirs = [
      {
        path: '/data/b1',
        totalBytes: 10 * 1024 ** 3,
        usableBytes: 4 * 1024 ** 3,
        partitions: [
          { topic: 'orders', partition: 0, sizeBytes: 2048, offsetLag: 0, isFuture: false },
          { topic: 'orders', partition: 1, sizeBytes: 3 * 1024 * 1024, offsetLag: 2, isFuture: false },
        ],
      },
    ];
    const tree = await snapshot([fakeCluster(source)]);
    const b1 = find(tree, (n) => n.id === 'embedded/brokers/1')!;
    assert.equal(b1.children!.length, 1);
    const dir = b1.children![0];
    assert.deepEqual([dir.label, dir.description, dir.contextValue], ['/data/b1', '3.0 MiB · 2 replicas · 4.0 GiB free of 10 GiB', 'logDir']);
    assert.deepEqual(
      dir.children!.map((c) => [c.label, c.description]),
      [
        ['orders-1', '3.0 MiB · lag 2'],
        ['orders-0', '2.0 KiB'],
      ],
    );
    // A broker that is down or paused cannot answer DescribeLogDirs: no children offered.
    assert.equal(find(tree, (n) => n.id === 'embedded/brokers/2')!.children, undefined);
  });
});
