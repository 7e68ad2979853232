// The embedded mini-cluster's lifecycle, refresh and copy-bootstrap.

import { isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import { getConfig, setConfig } from '../config';
import { Commands } from '../constants';
import type { ClusterRef } from '../contract';
import { UserError } from '../model/errors';
import { CommandContext, cluster, progress, registerCommand } from './common';

/** Options of chooseDataFolder: the folder, instead of the open dialog (tests, other extensions). */
export interface ChooseDataFolderOptions {
  folder?: string;
}

export interface StartResult extends ClusterRef {
  bootstrap: string;
  dir: string;
}

export function registerClusterCommands(ctx: CommandContext): vscode.Disposable[] {
  const embedded = ctx.registry.embedded;

  const start = async (opts: object | undefined): Promise<StartResult> => {
    embedded.markSeen();
    const n = getConfig('embedded.brokers');
    const state = await progress(`MiniKafka: starting the mini-cluster (${n} broker${n === 1 ? '' : 's'})…`, () => embedded.cluster.start());
    if (!opts) {
      void vscode.window.showInformationMessage(`Mini-cluster running: ${state.bootstrap}`, 'Copy Bootstrap Servers').then((a) => {
        if (a) void vscode.env.clipboard.writeText(state.bootstrap);
      });
    }
    return { clusterId: embedded.id, bootstrap: state.bootstrap, dir: embedded.cluster.dir };
  };

  return [
    registerCommand<ClusterRef, object, StartResult>(ctx, Commands.startCluster, (_ref, opts) => start(opts)),
    registerCommand<ClusterRef, object, void>(ctx, Commands.stopCluster, async () => {
      embedded.markSeen();
      await progress('MiniKafka: stopping the mini-cluster…', () => embedded.cluster.stop());
    }),
    registerCommand<ClusterRef, object, StartResult>(ctx, Commands.restartCluster, async (_ref, opts) => {
      embedded.markSeen();
      const state = await progress('MiniKafka: restarting the mini-cluster…', () => embedded.cluster.restart());
      if (!opts) void vscode.window.showInformationMessage(`Mini-cluster running again: ${state.bootstrap}`);
      return { clusterId: embedded.id, bootstrap: state.bootstrap, dir: embedded.cluster.dir };
    }),
    // The folder goes into minikafka.embedded.dataDir; a running cluster keeps its own folder until it is started
    // again (its data stays where it is: another folder is another cluster).
    registerCommand<ClusterRef, ChooseDataFolderOptions, string | undefined>(ctx, Commands.chooseDataFolder, async (_ref, opts) => {
      let folder = opts?.folder;
      if (folder === undefined) {
        const picked = await vscode.window.showOpenDialog({
          canSelectFolders: true,
          canSelectFiles: false,
          canSelectMany: false,
          openLabel: 'Use for the Mini-Cluster',
          title: 'Data folder of the embedded mini-cluster',
          defaultUri: vscode.Uri.file(embedded.cluster.dir),
        });
        if (!picked?.[0]) return undefined;
        folder = picked[0].fsPath;
      }
      if (!isAbsolute(folder)) throw new UserError(`the data folder must be an absolute path, got '${folder}'`);
      await setConfig('embedded.dataDir', folder);
      const running = embedded.cluster.status === 'running' ? embedded.cluster.dir : undefined;
      if (!opts && running !== undefined && running !== folder) {
        void vscode.window
          .showInformationMessage(`The mini-cluster keeps running in ${running}; it uses ${folder} from its next start.`, 'Restart Now')
          .then((a) => a && vscode.commands.executeCommand(Commands.restartCluster));
      }
      return folder;
    }),
    registerCommand<ClusterRef, object, void>(ctx, Commands.refresh, async (ref) => {
      const handles = ref?.clusterId ? [ctx.registry.get(ref.clusterId)].filter((h) => h !== undefined) : ctx.registry.all();
      for (const h of handles) {
        if (h.kind === 'external') h.invalidate();
        else if (h.cluster.status === 'running') await h.cluster.refreshState().catch(() => undefined);
        else await h.cluster.attach().catch(() => false);
      }
      ctx.provider.refresh(ref?.clusterId);
    }),
    registerCommand<ClusterRef, object, string>(ctx, Commands.copyBootstrapServers, async (ref, opts) => {
      const h = await cluster(ctx, ref, opts);
      const bootstrap = h.bootstrap();
      if (!bootstrap) throw new UserError(`${h.label} is not running`);
      await vscode.env.clipboard.writeText(bootstrap);
      if (!opts) void vscode.window.setStatusBarMessage(`Copied ${bootstrap}`, 3000);
      return bootstrap;
    }),
  ];
}
