// Shared by the extension's integration suites: the extension's test API, bounded polling of the explorer, and
// small searches over a tree snapshot.
import * as vscode from 'vscode';
import type { MiniKafkaTestApi, TreeSnapshotNode } from '../../src/extension/testApi';

export const EXTENSION_ID = 'minikafka.minikafka';

export async function testApi(): Promise<MiniKafkaTestApi> {
  const ext = vscode.extensions.getExtension<MiniKafkaTestApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

export function findNode(nodes: TreeSnapshotNode[] | undefined, pred: (n: TreeSnapshotNode) => boolean): TreeSnapshotNode | undefined {
  for (const n of nodes ?? []) {
    if (pred(n)) return n;
    const inner = findNode(n.children, pred);
    if (inner) return inner;
  }
  return undefined;
}

export function byId(nodes: TreeSnapshotNode[] | undefined, id: string): TreeSnapshotNode | undefined {
  return findNode(nodes, (n) => n.id === id);
}

/** Polls `read` until `check` returns true (bounded); returns the last value and how long it took. */
export async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, timeoutMs: number, what: string): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      last = await read();
      if (check(last)) return { value: last, ms: Date.now() - start };
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}${lastError ? `; last error: ${(lastError as Error).message}` : ''}`);
}

/** Expand only what a test looks at (cheap snapshots): the clusters, their folders and the named topics/groups. */
export function expandOnly(topics: string[] = [], groups: string[] = []): (node: { kind: string; topic?: string; groupId?: string }) => boolean {
  return (node) => {
    switch (node.kind) {
      case 'cluster':
      case 'folder':
        return true;
      case 'topic':
        return topics.includes(node.topic ?? '');
      case 'group':
        return groups.includes(node.groupId ?? '');
      default:
        return false;
    }
  };
}
