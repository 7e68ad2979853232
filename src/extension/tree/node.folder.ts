// The folders under a cluster: Brokers, Topics, Consumer groups, Transactions, ACLs. vscode-free.
import { Commands } from '../constants';
import { describeError } from '../model/errors';
import type { TreeContext } from './context';
import type { FolderNode, ItemPresentation, TreeNode } from './node';
import { placeholder, plural } from './node';
import { brokerNode } from './node.broker';
import { controllerNode } from './node.controller';
import { topicNode } from './node.topic';
import { groupNode } from './node.group';
import { orphanTransactionNode, transactionNode } from './node.transaction';
import { aclNode } from './node.acl';

const LABELS = { brokers: 'Brokers', topics: 'Topics', groups: 'Consumer groups', transactions: 'Transactions', acls: 'ACLs' } as const;
const ICONS = { brokers: 'server', topics: 'list-tree', groups: 'organization', transactions: 'git-pull-request-draft', acls: 'shield' } as const;

export function folderItem(node: FolderNode, ctx?: TreeContext): ItemPresentation {
  const filter = node.folder === 'topics' ? ctx?.topicFilter(node.clusterId) : undefined;
  const description = [folderDescription(node), filter !== undefined ? `filter "${filter}"` : undefined].filter(Boolean).join(' · ');
  return {
    id: node.id,
    label: LABELS[node.folder],
    ...(description ? { description } : {}),
    contextValue: `folder.${node.folder}`,
    icon: { id: ICONS[node.folder] },
    ...(filter !== undefined ? { tooltip: `Showing the topics whose name contains "${filter}" (case-insensitive). Filter Topics… with an empty text shows them all.` } : {}),
    ...(node.folder === 'transactions' ? { tooltip: 'Open transactions: from the transaction coordinators (ListTransactions, DescribeTransactions) and the partition leaders (DescribeProducers). HANGING: open past transaction.timeout.ms, or held by a leader that no coordinator reports as open.' } : {}),
    collapsible: node.folder === 'brokers' ? 'expanded' : 'collapsed',
  };
}

/** Counts known without a request (the embedded cluster's control state): "2/3 up", "4 topics · 1 offline". */
function folderDescription(node: FolderNode): string | undefined {
  const s = node.cluster.summary?.();
  if (!s) return undefined;
  if (node.folder === 'brokers') return `${s.brokersUp}/${s.brokersTotal} up`;
  if (node.folder === 'topics') {
    const marks = [plural(s.topics, 'topic')];
    if (s.offlinePartitions > 0) marks.push(`${s.offlinePartitions} offline`);
    if (s.underReplicatedPartitions > 0) marks.push(`${s.underReplicatedPartitions} under-replicated`);
    return marks.join(' · ');
  }
  return undefined;
}

export async function folderChildren(node: FolderNode, ctx: TreeContext): Promise<TreeNode[]> {
  const source = node.cluster.source();
  const c = node.cluster;
  if (!source) return [placeholder(node.id, c.id, c.lastError() ?? 'the cluster is not available', { severity: 'error' })];
  try {
    switch (node.folder) {
      case 'brokers': {
        const brokers = await source.brokers();
        if (brokers.length === 0) return [placeholder(node.id, c.id, 'No brokers')];
        const rows: TreeNode[] = brokers.map((b) => brokerNode(c.id, b, source.kind === 'embedded', c));
        const controller = await source.controller?.();
        if (controller) rows.push(controllerNode(c.id, controller));
        return rows;
      }
      case 'topics': {
        const show = ctx.options().showInternalTopics;
        const all = (await source.topics()).filter((t) => show || !t.internal);
        const filter = ctx.topicFilter(c.id);
        const topics = filter !== undefined ? all.filter((t) => t.name.toLowerCase().includes(filter.toLowerCase())) : all;
        if (topics.length === 0 && filter !== undefined) {
          return [
            placeholder(node.id, c.id, `No topic name contains "${filter}" (of ${plural(all.length, 'topic')}) — clear the filter`, {
              key: 'filter',
              command: { command: Commands.filterTopics, title: 'Filter Topics', arguments: [{ clusterId: c.id }, { filter: '' }] },
            }),
          ];
        }
        if (topics.length === 0) {
          return [placeholder(node.id, c.id, 'No topics — create one', { command: { command: Commands.createTopic, title: 'Create Topic', arguments: [{ clusterId: c.id }] } })];
        }
        return topics.map((t) => topicNode(c, t));
      }
      case 'groups': {
        const groups = await source.groups();
        if (groups.length === 0) return [placeholder(node.id, c.id, 'No consumer groups')];
        return groups.map((g) => groupNode(c, g));
      }
      case 'transactions': {
        const readAt = Date.now();
        const t = await source.transactions();
        const rows: TreeNode[] = [
          // Hanging first: they are what a user opening this folder is looking for.
          ...t.open.filter((x) => x.hanging).map((x) => transactionNode(c.id, x, readAt)),
          ...t.orphans.map((o) => orphanTransactionNode(c.id, o, readAt)),
          ...t.open.filter((x) => !x.hanging).map((x) => transactionNode(c.id, x, readAt)),
        ];
        if (rows.length === 0) {
          const ids = t.listed.length;
          return [placeholder(node.id, c.id, ids > 0 ? `No open transactions (${plural(ids, 'transactional id')} known)` : 'No open transactions')];
        }
        return rows;
      }
      case 'acls': {
        const res = await source.acls();
        if (!res.enabled) {
          return [
            placeholder(node.id, c.id, 'ACLs are off: the cluster has no authorizer', {
              key: 'disabled',
              tooltip: `The brokers answer SECURITY_DISABLED (${res.reason}). Start them with authorizer.class.name set (minikafka start --config authorizer.class.name=StandardAuthorizer) to use ACLs.`,
            }),
          ];
        }
        if (res.acls.length === 0) {
          return [placeholder(node.id, c.id, 'No ACLs — add one', { command: { command: Commands.addAcl, title: 'Add ACL', arguments: [{ clusterId: c.id }] } })];
        }
        return res.acls.map((a) => aclNode(c.id, a));
      }
    }
  } catch (err) {
    const words = describeError(err, c.bootstrap()?.split(',') ?? []);
    return [placeholder(node.id, c.id, words, { severity: 'error', tooltip: `Could not read the ${LABELS[node.folder].toLowerCase()}: ${words}` })];
  }
}

