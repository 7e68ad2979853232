// What every command shares: registration with error reporting, the argument convention, pickers for a
// cluster/topic/broker/partition/group when the argument does not say, and progress for long actions.
//
// Argument convention (so integration tests can call vscode.commands.executeCommand without UI):
//   executeCommand(id, ref?, options?)
// `ref` is one of contract.ts's *Ref shapes (a tree node is one too). Missing fields are asked for with quick
// picks. When `options` is an object (even {}), the command never prompts (confirmations are skipped, missing
// input is an error) and failures reject the returned promise instead of showing a notification.
// From a context menu, VS Code passes (node, selectedNodes[]): an array second argument is not options.

import * as vscode from 'vscode';
import { ClusterAdmin } from '../../client/admin';
import type { AnyHandle, ClusterRegistry } from '../clusters/registry';
import type { BrokerView } from '../../broker/cluster/supervisor';
import type { EmbeddedHandle } from '../clusters/embeddedHandle';
import type { ClusterRef } from '../contract';
import { componentLogger } from '../logger';
import { describeError, UserError } from '../model/errors';
import type { ClusterTreeProvider } from '../tree/provider';

export interface CommandContext {
  registry: ClusterRegistry;
  provider: ClusterTreeProvider;
  log: vscode.LogOutputChannel;
  extensionContext: vscode.ExtensionContext;
}

/** The user dismissed a prompt: the command ends quietly. */
export class Cancelled extends Error {}

export type Options = Record<string, unknown>;

export function isOptions(value: unknown): value is Options {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function registerCommand<A, O extends object, R>(
  ctx: CommandContext,
  id: string,
  handler: (arg: Partial<A> | undefined, opts: O | undefined) => Promise<R>,
): vscode.Disposable {
  const logger = componentLogger(ctx.log, 'commands');
  return vscode.commands.registerCommand(id, async (arg?: unknown, second?: unknown) => {
    const opts = isOptions(second) ? (second as O) : undefined;
    const ref = isOptions(arg) ? (arg as Partial<A>) : undefined;
    logger.debug(`${id} ${JSON.stringify(ref ?? {}, (k, v) => (k === 'password' ? '***' : k === 'cluster' ? undefined : v))}${opts ? ' (no prompts)' : ''}`);
    try {
      return await handler(ref, opts);
    } catch (err) {
      if (err instanceof Cancelled) return undefined;
      const words = describeError(err);
      logger.error(`${id}: ${words}`);
      if (err instanceof Error && err.stack && !(err instanceof UserError)) ctx.log.debug(err.stack);
      if (opts) throw new Error(words);
      void vscode.window.showErrorMessage(words);
      return undefined;
    }
  });
}

export function cancelIfUndefined<T>(value: T | undefined): T {
  if (value === undefined) throw new Cancelled();
  return value;
}

/** In no-prompt mode a missing value is an error; otherwise ask. */
export async function ask<T>(opts: object | undefined, what: string, prompt: () => Thenable<T | undefined>): Promise<T> {
  if (opts) throw new UserError(`${what} is missing from the command's arguments`);
  return cancelIfUndefined(await prompt());
}

export async function cluster(ctx: CommandContext, ref: Partial<ClusterRef> | undefined, opts: object | undefined): Promise<AnyHandle> {
  if (!ref?.clusterId && opts) {
    const running = ctx.registry.all().filter((h) => h.kind === 'external' || h.cluster.status === 'running');
    if (running.length === 1) return running[0];
    throw new UserError('clusterId is missing from the command\'s arguments');
  }
  return cancelIfUndefined(await ctx.registry.resolveCluster(ref, { requireRunning: true }));
}

export function requireEmbedded(handle: AnyHandle, what: string): EmbeddedHandle {
  if (handle.kind !== 'embedded') throw new UserError(`${what} works only on the embedded mini-cluster (it acts on broker processes)`);
  if (handle.cluster.status !== 'running') throw new UserError('the mini-cluster is not running; start it first (MiniKafka: Start Mini-Cluster)');
  return handle;
}

/** A short-lived admin client for one command. */
export async function withAdmin<T>(handle: AnyHandle, fn: (admin: ClusterAdmin) => Promise<T>): Promise<T> {
  const admin = new ClusterAdmin({ retry: { retries: 3, initialRetryTimeMs: 200, maxRetryTimeMs: 2000 }, ...(await handle.connection()) });
  try {
    await admin.connect();
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function progress<T>(title: string, task: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false }, task);
}

export async function pickTopic(handle: AnyHandle, topic: string | undefined, opts: object | undefined, placeHolder = 'Which topic?'): Promise<string> {
  if (topic) return topic;
  return ask(opts, 'topic', async () => {
    const topics = await handle.source()!.topics();
    if (topics.length === 0) throw new UserError(`${handle.label} has no topics`);
    const picked = await vscode.window.showQuickPick(
      topics.map((t) => ({ label: t.name, description: `${t.partitions.length} partitions${t.internal ? ' · internal' : ''}` })),
      { placeHolder },
    );
    return picked?.label;
  });
}

export async function pickPartition(handle: AnyHandle, topic: string, partition: number | undefined, opts: object | undefined): Promise<number> {
  if (partition !== undefined && partition !== null) return Number(partition);
  return ask(opts, 'partition', async () => {
    const t = await handle.source()!.topic(topic);
    const picked = await vscode.window.showQuickPick(
      t.partitions.map((p) => ({
        label: `P${p.partition}`,
        description: `leader ${p.leader >= 0 ? p.leader : 'none'} · replicas ${p.replicas.join(',')} · isr ${p.isr.join(',')}`,
        partition: p.partition,
      })),
      { placeHolder: `Which partition of ${topic}?` },
    );
    return picked?.partition;
  });
}

export async function pickBroker(
  embedded: EmbeddedHandle,
  brokerId: number | undefined,
  opts: object | undefined,
  filter: (b: BrokerView) => boolean = () => true,
  placeHolder = 'Which broker?',
): Promise<number> {
  if (brokerId !== undefined && brokerId !== null) return Number(brokerId);
  return ask(opts, 'brokerId', async () => {
    const brokers = (embedded.cluster.state?.brokers ?? []).filter(filter);
    if (brokers.length === 0) throw new UserError('no broker is in a state this action applies to');
    const picked = await vscode.window.showQuickPick(
      brokers.map((b) => ({
        label: `Broker ${b.id}`,
        description: `${b.host}:${b.port} · ${b.state}${b.fenced ? ' (fenced)' : ''}${b.isController ? ' · listed as controller' : ''}`,
        id: b.id,
      })),
      { placeHolder },
    );
    return picked?.id;
  });
}

export async function pickGroup(handle: AnyHandle, groupId: string | undefined, opts: object | undefined): Promise<string> {
  if (groupId) return groupId;
  return ask(opts, 'groupId', async () => {
    const groups = await handle.source()!.groups();
    if (groups.length === 0) throw new UserError(`${handle.label} has no consumer groups`);
    const picked = await vscode.window.showQuickPick(
      groups.map((g) => ({ label: g.groupId, description: `${g.state} · ${g.members} members${g.totalLag !== null ? ` · lag ${g.totalLag}` : ''}` })),
      { placeHolder: 'Which consumer group?' },
    );
    return picked?.label;
  });
}

/** A modal yes/no; always yes in no-prompt mode. */
export async function confirm(opts: object | undefined, message: string, detail: string, action: string): Promise<void> {
  if (opts) return;
  const answer = await vscode.window.showWarningMessage(message, { modal: true, detail }, action);
  if (answer !== action) throw new Cancelled();
}
