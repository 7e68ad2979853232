// What a panel command acts on: the argument a tree item or a test passes (TopicRef, PartitionRef, GroupRef), or,
// from the command palette, what the user picks (a cluster through PanelHost.resolveCluster, then a topic or group).

import * as vscode from 'vscode';
import { ClusterAdmin } from '../../client/admin';
import { describeConnectionError } from '../../client/connection';
import type { ClusterHandle, ClusterRef, GroupRef, PanelHost, PartitionRef, TopicRef } from '../contract';

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object';
}

/** Tree nodes may carry the ref themselves or under `ref`; tests pass the plain shape. */
function unwrap(arg: unknown): Record<string, unknown> | undefined {
  if (!isObject(arg)) return undefined;
  if (isObject(arg.ref)) return { ...arg.ref };
  return arg;
}

export function clusterRefOf(arg: unknown): Partial<ClusterRef> | undefined {
  const a = unwrap(arg);
  return a && typeof a.clusterId === 'string' ? { clusterId: a.clusterId } : undefined;
}

export function topicRefOf(arg: unknown): (TopicRef & { partition?: number }) | undefined {
  const a = unwrap(arg);
  if (!a || typeof a.clusterId !== 'string' || typeof a.topic !== 'string') return undefined;
  const ref: TopicRef & { partition?: number } = { clusterId: a.clusterId, topic: a.topic };
  if (typeof a.partition === 'number') ref.partition = a.partition;
  return ref;
}

export function partitionRefOf(arg: unknown): PartitionRef | undefined {
  const r = topicRefOf(arg);
  return r && r.partition !== undefined ? { clusterId: r.clusterId, topic: r.topic, partition: r.partition } : undefined;
}

export function groupRefOf(arg: unknown): GroupRef | undefined {
  const a = unwrap(arg);
  if (!a || typeof a.clusterId !== 'string' || typeof a.groupId !== 'string') return undefined;
  return { clusterId: a.clusterId, groupId: a.groupId };
}

export interface Resolved<T> {
  cluster: ClusterHandle;
  target: T;
}

/** The topic (and maybe partition) a command should act on; undefined when the user cancels. */
export async function resolveTopic(host: PanelHost, arg: unknown): Promise<Resolved<{ topic: string; partition?: number }> | undefined> {
  const ref = topicRefOf(arg);
  const cluster = await host.resolveCluster(ref ?? clusterRefOf(arg));
  if (!cluster) return undefined;
  if (ref) return { cluster, target: { topic: ref.topic, ...(ref.partition !== undefined ? { partition: ref.partition } : {}) } };
  const topics = await listWith(cluster, async (admin) => (await admin.listTopics()).filter((t) => !t.internal).map((t) => t.name));
  if (!topics) return undefined;
  if (topics.length === 0) {
    void vscode.window.showInformationMessage(`${cluster.label} has no topics yet.`);
    return undefined;
  }
  const topic = await vscode.window.showQuickPick(topics, { title: `Topic of ${cluster.label}`, placeHolder: 'Pick a topic' });
  return topic === undefined ? undefined : { cluster, target: { topic } };
}

export async function resolveGroup(host: PanelHost, arg: unknown): Promise<Resolved<{ groupId: string }> | undefined> {
  const ref = groupRefOf(arg);
  const cluster = await host.resolveCluster(ref ?? clusterRefOf(arg));
  if (!cluster) return undefined;
  if (ref) return { cluster, target: { groupId: ref.groupId } };
  const groups = await listWith(cluster, async (admin) => (await admin.listGroups()).map((g) => g.groupId));
  if (!groups) return undefined;
  const typed = '$(edit) Enter a group id…';
  const picked = await vscode.window.showQuickPick([...groups, typed], { title: `Consumer group of ${cluster.label}`, placeHolder: groups.length ? 'Pick a group' : 'No groups yet: enter one' });
  if (picked === undefined) return undefined;
  if (picked !== typed) return { cluster, target: { groupId: picked } };
  const groupId = await vscode.window.showInputBox({ title: 'Consumer group id', validateInput: (v) => (v.trim() === '' ? 'A group id is needed' : undefined) });
  return groupId ? { cluster, target: { groupId: groupId.trim() } } : undefined;
}

async function listWith<T>(cluster: ClusterHandle, fn: (admin: ClusterAdmin) => Promise<T>): Promise<T | undefined> {
  let connection;
  try {
    connection = await cluster.connection();
  } catch (err) {
    void vscode.window.showErrorMessage(`${cluster.label}: ${describeConnectionError(err)}`);
    return undefined;
  }
  const admin = new ClusterAdmin(connection);
  try {
    await admin.connect();
    return await fn(admin);
  } catch (err) {
    void vscode.window.showErrorMessage(`${cluster.label}: ${describeConnectionError(err, connection.bootstrapServers)}`);
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
