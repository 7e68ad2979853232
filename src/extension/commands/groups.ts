// Consumer groups: reset offsets (refused while the group has members) and delete.

import * as vscode from 'vscode';
import type { OffsetResetTarget, PartitionOffset } from '../../client/admin';
import { Commands } from '../constants';
import type { GroupRef } from '../contract';
import { UserError } from '../model/errors';
import { parseTimestamp, validateOffset } from '../model/validation';
import { ask, Cancelled, CommandContext, cluster, confirm, pickGroup, progress, registerCommand, withAdmin } from './common';

export interface ResetOffsetsOptions {
  /** The topic whose offsets move; default: the only topic the group has offsets for. */
  topic?: string;
  to?: 'earliest' | 'latest' | { timestamp: number | string } | { offset: string | number };
  dryRun?: boolean;
}

function targetOf(to: NonNullable<ResetOffsetsOptions['to']>): OffsetResetTarget {
  if (to === 'earliest' || to === 'latest') return to;
  if ('timestamp' in to) {
    const t = parseTimestamp(String(to.timestamp));
    if (t.error) throw new UserError(t.error);
    return { timestamp: t.ms! };
  }
  if ('offset' in to) {
    const problem = validateOffset(String(to.offset));
    if (problem) throw new UserError(problem);
    return { offset: String(to.offset) };
  }
  throw new UserError('to must be earliest, latest, { timestamp } or { offset }');
}

export function registerGroupCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    registerCommand<GroupRef, ResetOffsetsOptions, PartitionOffset[]>(ctx, Commands.resetGroupOffsets, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const groupId = await pickGroup(handle, ref?.groupId, opts);
      const offsets = await handle.source()!.groupOffsets(groupId);
      // Like kafka-consumer-groups.sh: say so before asking anything else.
      if (offsets.group.members.length > 0) {
        throw new UserError(
          `cannot reset the offsets of '${groupId}' while it has ${offsets.group.members.length} active member${offsets.group.members.length === 1 ? '' : 's'} (state ${offsets.group.state}); stop its consumers first`,
        );
      }
      const topics = [...new Set(offsets.partitions.map((p) => p.topic))];
      let topic = opts?.topic;
      if (!topic) {
        if (topics.length === 1) topic = topics[0];
        else
          topic = await ask(opts, 'topic', async () => {
            const list = topics.length > 0 ? topics : (await handle.source()!.topics()).filter((t) => !t.internal).map((t) => t.name);
            return (await vscode.window.showQuickPick(list, { placeHolder: `Reset the offsets of ${groupId} on which topic?` })) ?? undefined;
          });
      }
      let to = opts?.to;
      if (!to) {
        to = await ask(opts, 'to', async () => {
          const choice = await vscode.window.showQuickPick(
            [
              { label: 'Earliest', description: 'the start of the log: re-read everything', v: 'earliest' as const },
              { label: 'Latest', description: 'the end of the log: skip everything not yet read', v: 'latest' as const },
              { label: 'Timestamp…', description: 'the first record at or after a time', v: 'timestamp' as const },
              { label: 'Offset…', description: 'the same offset on every partition', v: 'offset' as const },
            ],
            { placeHolder: `Move ${groupId}'s offsets on ${topic} to…` },
          );
          if (!choice) return undefined;
          if (choice.v === 'earliest' || choice.v === 'latest') return choice.v;
          if (choice.v === 'timestamp') {
            const v = await vscode.window.showInputBox({
              prompt: 'Date/time (ISO 8601, e.g. 2024-05-01T12:00:00Z) or epoch milliseconds',
              value: new Date(Date.now() - 3600_000).toISOString(),
              validateInput: (x) => parseTimestamp(x).error,
            });
            return v === undefined ? undefined : { timestamp: v };
          }
          const v = await vscode.window.showInputBox({ prompt: 'Offset (clamped to each partition\'s range)', value: '0', validateInput: validateOffset });
          return v === undefined ? undefined : { offset: v };
        });
      }
      const target = targetOf(to);
      const resetTopic = topic;
      const plan = await withAdmin(handle, (a) => a.resetGroupOffsets(groupId, resetTopic, target, { dryRun: true }));
      if (!opts) {
        const lines = plan.map((p) => `P${p.partition} → ${p.offset}`).join(', ');
        await confirm(opts, `Reset ${groupId} on ${resetTopic}?`, `New committed offsets: ${lines}`, 'Reset Offsets');
      }
      if (opts?.dryRun) return plan;
      const done = await progress(`MiniKafka: resetting ${groupId}…`, () => withAdmin(handle, (a) => a.resetGroupOffsets(groupId, resetTopic, target)));
      ctx.provider.refresh(handle.id);
      return done;
    }),

    registerCommand<GroupRef, object, void>(ctx, Commands.deleteGroup, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const groupId = await pickGroup(handle, ref?.groupId, opts);
      await confirm(opts, `Delete consumer group '${groupId}'?`, 'Its committed offsets are deleted; its consumers would start again from their auto.offset.reset position.', 'Delete');
      await progress(`MiniKafka: deleting group ${groupId}…`, () => withAdmin(handle, (a) => a.deleteGroup(groupId)));
      ctx.provider.refresh(handle.id);
    }),
  ];
}

export { Cancelled };
