// Topics: create (validated with Kafka's rules in the input boxes), delete (modal confirmation), edit a config
// (bad values come back in the broker's words), describe (kafka-topics --describe text in an editor).

import * as vscode from 'vscode';
import type { TopicConfigEntry } from '../../client/admin';
import { describeTopicsText } from '../../client/describe';
import { Commands } from '../constants';
import type { ClusterRef, TopicRef } from '../contract';
import { UserError } from '../model/errors';
import { parseConfigs, validateConfigs, validatePartitions, validateReplicationFactor, validateTopicName } from '../model/validation';
import type { AnyHandle } from '../clusters/registry';
import { ask, Cancelled, CommandContext, cluster, confirm, pickTopic, progress, registerCommand, withAdmin } from './common';

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface EditTopicConfigOptions {
  set?: Record<string, string>;
  remove?: string[];
}

async function liveBrokerCount(handle: AnyHandle): Promise<number | undefined> {
  if (handle.kind === 'embedded') return handle.liveBrokers().length;
  try {
    return (await handle.source().brokers()).length;
  } catch {
    return undefined;
  }
}

export interface FilterTopicsOptions {
  /** The text topic names must contain; '' clears the filter. */
  filter?: string;
}

export function registerTopicCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    // A filter, not pages: VS Code draws only the rows in view, so thousands of rows scroll fine, and its own
    // find-in-tree searches every loaded row (pages would hide the rest from it); what a long list lacks is a way
    // to narrow it by name, kept while the tree redraws.
    registerCommand<ClusterRef, FilterTopicsOptions, { filter: string | undefined }>(ctx, Commands.filterTopics, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const model = ctx.provider.model;
      const text =
        opts?.filter ??
        (await ask(opts, 'filter', () =>
          vscode.window.showInputBox({
            title: `Filter the topics of ${handle.label}`,
            prompt: 'Show the topics whose name contains this text (case-insensitive); empty shows them all',
            value: model.topicFilter(handle.id) ?? '',
          }),
        ));
      const folder = model.setTopicFilter(handle.id, text);
      if (folder) ctx.provider.refreshNodes(handle.id, [folder]);
      return { filter: model.topicFilter(handle.id) };
    }),

    registerCommand<TopicRef, CreateTopicOptions, TopicRef>(ctx, Commands.createTopic, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const source = handle.source();
      if (!source) throw new UserError(`${handle.label} is not running`);
      const live = await liveBrokerCount(handle);
      const existing = (await source.topics()).map((t) => t.name);
      let name = ref?.topic;
      let partitions = opts?.partitions;
      let replicationFactor = opts?.replicationFactor;
      let configs = opts?.configs ?? {};
      if (opts || name) {
        if (!name) throw new UserError('topic is missing from the command\'s arguments');
        const problem =
          validateTopicName(name, existing) ??
          (partitions !== undefined ? validatePartitions(String(partitions)) : undefined) ??
          (replicationFactor !== undefined ? validateReplicationFactor(String(replicationFactor), live) : undefined);
        if (problem) throw new UserError(problem);
      }
      if (!opts) {
        name ??= await inputOrCancel({
          title: `Create topic on ${handle.label} (1/4)`,
          prompt: 'Topic name: ASCII letters, digits, ".", "_" and "-", at most 249 characters',
          validateInput: (v) => validateTopicName(v, existing),
        });
        const p = await inputOrCancel({ title: `Create topic ${name} (2/4)`, prompt: 'Number of partitions', value: '1', validateInput: validatePartitions });
        partitions = Number(p);
        const defaultRf = String(Math.min(3, live ?? 1));
        const rf = await inputOrCancel({
          title: `Create topic ${name} (3/4)`,
          prompt: `Replication factor${live !== undefined ? ` (${live} live broker${live === 1 ? '' : 's'})` : ''}`,
          value: defaultRf,
          validateInput: (v) => validateReplicationFactor(v, live),
        });
        replicationFactor = Number(rf);
        const c = await inputOrCancel({
          title: `Create topic ${name} (4/4)`,
          prompt: 'Config overrides, key=value separated by commas (optional), e.g. retention.ms=3600000,min.insync.replicas=2',
          value: '',
          validateInput: validateConfigs,
        });
        configs = parseConfigs(c).configs;
      }
      const topic = name!;
      await progress(`MiniKafka: creating topic ${topic}…`, () => withAdmin(handle, (a) => a.createTopic({ name: topic, partitions, replicationFactor, configs })));
      ctx.provider.refresh(handle.id);
      if (!opts) void vscode.window.showInformationMessage(`Created topic ${topic}.`);
      return { clusterId: handle.id, topic };
    }),

    registerCommand<TopicRef, object, void>(ctx, Commands.deleteTopic, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const topic = await pickTopic(handle, ref?.topic, opts, 'Delete which topic?');
      await confirm(opts, `Delete topic '${topic}' on ${handle.label}?`, 'All of its records are deleted. Producers and consumers of the topic will fail (or re-create it if auto-creation is on).', 'Delete');
      await progress(`MiniKafka: deleting topic ${topic}…`, () => withAdmin(handle, (a) => a.deleteTopic(topic)));
      ctx.provider.refresh(handle.id);
    }),

    registerCommand<TopicRef, EditTopicConfigOptions, TopicConfigEntry[]>(ctx, Commands.editTopicConfig, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const topic = await pickTopic(handle, ref?.topic, opts);
      let set = opts?.set ?? {};
      let remove = opts?.remove ?? [];
      if (!opts) {
        const entries = await withAdmin(handle, (a) => a.describeTopicConfigs(topic));
        const picked = await vscode.window.showQuickPick(
          entries.map((e) => ({
            label: e.name,
            description: `${e.sensitive ? '(sensitive)' : (e.value ?? 'null')}`,
            detail: `${e.source === 'topic' ? 'set on this topic' : e.source === 'broker' ? 'from the broker configuration' : 'Kafka default'}${e.readOnly ? ' · read-only' : ''}`,
            entry: e,
          })),
          { title: `Configs of ${topic}`, placeHolder: 'Pick a config to change', matchOnDescription: true },
        );
        if (!picked) throw new Cancelled();
        const e = picked.entry;
        if (e.readOnly) throw new UserError(`${e.name} is read-only`);
        const value = await inputOrCancel({
          title: `${topic}: ${e.name}`,
          // No local check of the value: the broker validates it and its words are shown when it refuses.
          prompt:
            e.source === 'topic'
              ? `Overridden on this topic (${e.value}). An empty value removes the override.`
              : `Currently ${e.value} (${e.source === 'broker' ? 'broker setting' : 'Kafka default'}). A value here overrides it on this topic.`,
          value: e.value ?? '',
        });
        if (value === '' && e.source === 'topic') {
          set = {};
          remove = [e.name];
        } else if (value === '') {
          throw new Cancelled();
        } else {
          set = { [e.name]: value };
          remove = [];
        }
      }
      if (Object.keys(set).length === 0 && remove.length === 0) throw new UserError('nothing to change: pass set and/or remove');
      const after = await progress(`MiniKafka: updating ${topic}…`, () =>
        withAdmin(handle, async (a) => {
          await a.alterTopicConfig(topic, set, remove);
          return a.describeTopicConfigs(topic);
        }),
      );
      if (!opts) {
        const what = [...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...remove.map((k) => `${k} reset`)].join(', ');
        void vscode.window.showInformationMessage(`Updated ${topic}: ${what}.`);
      }
      ctx.provider.refresh(handle.id);
      return after;
    }),

    registerCommand<TopicRef, { open?: boolean }, string>(ctx, Commands.describeTopic, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      const topic = await pickTopic(handle, ref?.topic, opts);
      const text = await withAdmin(handle, async (a) => {
        const topics = await a.describeTopics([topic]);
        return describeTopicsText(topics, await a.describeConfigsOf([topic]));
      });
      if (opts?.open !== false) {
        const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
        await vscode.window.showTextDocument(doc, { preview: true });
      }
      return text;
    }),
  ];
}

async function inputOrCancel(options: vscode.InputBoxOptions): Promise<string> {
  const v = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (v === undefined) throw new Cancelled();
  return v.trim();
}

export type { ClusterRef };
