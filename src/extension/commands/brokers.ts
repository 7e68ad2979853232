// Broker process actions on the embedded mini-cluster (kill -9, SIGSTOP, SIGCONT, controlled stop, restart),
// killing a partition's leader, preferred leader election and partition reassignment.

import * as vscode from 'vscode';
import type { BrokerAction } from '../../broker/cluster/controlClient';
import type { BrokerView } from '../../broker/cluster/supervisor';
import { Commands } from '../constants';
import type { BrokerRef, PartitionRef } from '../contract';
import { UserError } from '../model/errors';
import { electPreferredLeaders, ElectionOutcome, ElectionTarget, reassignPartition, summarizeElection } from '../model/leadership';
import { parseBrokerList } from '../model/validation';
import type { AnyHandle } from '../clusters/registry';
import { ask, CommandContext, cluster, pickBroker, pickPartition, pickTopic, progress, registerCommand, requireEmbedded } from './common';

const ACTIONS: Array<{ id: string; action: BrokerAction; verb: string; applies: (b: BrokerView) => boolean }> = [
  { id: Commands.killBroker, action: 'kill', verb: 'Killing', applies: (b) => b.state === 'running' || b.state === 'paused' || b.state === 'starting' },
  { id: Commands.pauseBroker, action: 'pause', verb: 'Pausing', applies: (b) => b.state === 'running' },
  { id: Commands.resumeBroker, action: 'resume', verb: 'Resuming', applies: (b) => b.state === 'paused' },
  { id: Commands.stopBroker, action: 'stop', verb: 'Stopping', applies: (b) => b.state === 'running' || b.state === 'paused' },
  { id: Commands.restartBroker, action: 'restart', verb: 'Restarting', applies: () => true },
];

async function secured(handle: AnyHandle): Promise<boolean> {
  const c = await handle.connection();
  return !!c.sasl || (c.ssl !== undefined && c.ssl !== false);
}

export function registerBrokerCommands(ctx: CommandContext): vscode.Disposable[] {
  const out: vscode.Disposable[] = ACTIONS.map(({ id, action, verb, applies }) =>
    registerCommand<BrokerRef, object, BrokerView>(ctx, id, async (ref, opts) => {
      const handle = requireEmbedded(await cluster(ctx, ref ?? { clusterId: ctx.registry.embedded.id }, opts), 'this broker action');
      const brokerId = await pickBroker(handle, ref?.brokerId, opts, applies, `${verb.replace(/ing$/, '')} which broker?`);
      const run = () => handle.cluster.brokerAction(brokerId, action);
      // kill, pause and resume are instant; stop and restart wait for the broker.
      const view = action === 'stop' || action === 'restart' ? await progress(`MiniKafka: ${verb.toLowerCase()} broker ${brokerId}…`, run) : await run();
      return view;
    }),
  );

  out.push(
    // kill -9 of the supervisor: the brokers keep serving and start a new one, which the extension then follows.
    registerCommand<{ clusterId?: string } | undefined, object, { pid: number }>(ctx, Commands.killController, async (ref, opts) => {
      const handle = requireEmbedded(await cluster(ctx, { clusterId: ref?.clusterId ?? ctx.registry.embedded.id }, opts), 'killing the controller');
      const pid = await handle.cluster.killController();
      if (!opts) void vscode.window.setStatusBarMessage(`Killed the controller (supervisor pid ${pid}); a broker starts a new one within seconds`, 5000);
      return { pid };
    }),
    registerCommand<PartitionRef, object, { brokerId: number }>(ctx, Commands.killPartitionLeader, async (ref, opts) => {
      const handle = requireEmbedded(await cluster(ctx, ref ?? { clusterId: ctx.registry.embedded.id }, opts), "killing a partition's leader");
      const topic = await pickTopic(handle, ref?.topic, opts);
      const partition = await pickPartition(handle, topic, ref?.partition, opts);
      const state = await handle.cluster.refreshState();
      const p = state?.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partition === partition);
      if (!p) throw new UserError(`no partition ${partition} in topic '${topic}'`);
      if (p.leader < 0) throw new UserError(`${topic}-${partition} has no leader to kill (it is offline)`);
      await handle.cluster.brokerAction(p.leader, 'kill');
      if (!opts) void vscode.window.setStatusBarMessage(`Killed broker ${p.leader}, leader of ${topic}-${partition}`, 5000);
      return { brokerId: p.leader };
    }),

    registerCommand<PartitionRef, object, ElectionOutcome[]>(ctx, Commands.electPreferredLeaders, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      if (await secured(handle)) throw new UserError('preferred leader election is not supported on SASL/TLS connections yet (use kafka-leader-election.sh)');
      let targets: ElectionTarget[] | null = null;
      if (ref?.topic) {
        const t = await handle.source()!.topic(ref.topic);
        targets = [{ topic: ref.topic, partitions: ref.partition !== undefined ? [Number(ref.partition)] : t.partitions.map((p) => p.partition) }];
      } else if (!opts) {
        const scope = await vscode.window.showQuickPick(
          [
            { label: 'All partitions', description: 'every topic of the cluster', all: true },
            { label: 'One topic…', all: false },
          ],
          { placeHolder: 'Elect the preferred leader (first replica) of…' },
        );
        if (!scope) return [];
        if (!scope.all) {
          const topic = await pickTopic(handle, undefined, undefined);
          const t = await handle.source()!.topic(topic);
          targets = [{ topic, partitions: t.partitions.map((p) => p.partition) }];
        }
      }
      const bootstrap = (await handle.connection()).bootstrapServers;
      const outcomes = await progress('MiniKafka: electing preferred leaders…', () => electPreferredLeaders(bootstrap, targets));
      ctx.provider.refresh(handle.id);
      if (!opts) void vscode.window.showInformationMessage(summarizeElection(outcomes));
      return outcomes;
    }),

    registerCommand<PartitionRef, { replicas?: number[] }, 'done' | 'in progress'>(ctx, Commands.reassignPartition, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      if (await secured(handle)) throw new UserError('partition reassignment is not supported on SASL/TLS connections yet (use kafka-reassign-partitions.sh)');
      const topic = await pickTopic(handle, ref?.topic, opts);
      const partition = await pickPartition(handle, topic, ref?.partition, opts);
      const known = (await handle.source()!.brokers()).map((b) => b.id);
      let replicas = opts?.replicas;
      if (replicas) {
        const check = parseBrokerList(replicas.join(','), known);
        if (check.error) throw new UserError(check.error);
      } else {
        const current = (await handle.source()!.topic(topic)).partitions.find((p) => p.partition === partition);
        const value = await ask(opts, 'replicas', () =>
          vscode.window.showInputBox({
            title: `Reassign ${topic}-${partition}`,
            prompt: `New replica list (broker ids, comma-separated; the first one is the preferred leader). Brokers: ${known.join(', ')}`,
            value: current?.replicas.join(',') ?? '',
            validateInput: (v) => parseBrokerList(v, known).error,
          }),
        );
        replicas = parseBrokerList(value, known).ids;
      }
      const bootstrap = (await handle.connection()).bootstrapServers;
      const target = replicas;
      const result = await progress(`MiniKafka: moving ${topic}-${partition} to ${target.join(',')}…`, () => reassignPartition(bootstrap, topic, partition, target));
      ctx.provider.refresh(handle.id);
      if (!opts) {
        void vscode.window.showInformationMessage(
          result === 'done' ? `${topic}-${partition} now has replicas ${target.join(',')}.` : `${topic}-${partition} is still moving to ${target.join(',')}; the explorer shows when it is done.`,
        );
      }
      return result;
    }),
  );
  return out;
}
