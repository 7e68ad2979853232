// Typed settings, read through one accessor. `Config` mirrors package.json's contributes.configuration
// (test/unit/extension/manifest.test.ts checks the keys and defaults agree).

import * as vscode from 'vscode';
import { CONFIG_DEFAULTS, ConfigKey, Config } from './model/settings';

export type { Config, ConfigKey };
export { CONFIG_DEFAULTS };

const SECTION = 'minikafka';

export function getConfig<K extends ConfigKey>(key: K): Config[K] {
  const value = vscode.workspace.getConfiguration(SECTION).get<Config[K]>(key);
  return value === undefined || value === null ? CONFIG_DEFAULTS[key] : value;
}

/** Writes a setting (user settings unless a workspace value exists, which would shadow ours). */
export async function setConfig<K extends ConfigKey>(key: K, value: Config[K]): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const inspected = cfg.inspect(key);
  const target = inspected?.workspaceFolderValue !== undefined
    ? vscode.ConfigurationTarget.WorkspaceFolder
    : inspected?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await cfg.update(key, value, target);
}

/** Fires `listener` with the changed keys of ours when any of `keys` changes. */
export function onDidChangeConfig(keys: readonly ConfigKey[], listener: (changed: ConfigKey[]) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    const changed = keys.filter((k) => e.affectsConfiguration(`${SECTION}.${k}`));
    if (changed.length > 0) listener(changed);
  });
}
