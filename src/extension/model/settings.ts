// The settings under `minikafka.*`, typed: keys, value types and defaults as in package.json's
// contributes.configuration. vscode-free (config.ts reads them from VS Code).

import type { SavedConnection } from './connections';

export interface Config {
  'embedded.brokers': number;
  /** "" = the extension's global storage. */
  'embedded.dataDir': string;
  'embedded.basePort': number;
  'tree.showInternalTopics': boolean;
  'refresh.pollIntervalSeconds': number;
  connections: SavedConnection[];
  'tail.bufferSize': number;
}

export type ConfigKey = keyof Config;

export const CONFIG_DEFAULTS: Config = {
  'embedded.brokers': 3,
  'embedded.dataDir': '',
  'embedded.basePort': 9092,
  'tree.showInternalTopics': false,
  'refresh.pollIntervalSeconds': 10,
  connections: [],
  'tail.bufferSize': 10000,
};
