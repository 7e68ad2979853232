// Central ids: commands, views, context keys, settings, secrets. package.json's `contributes` uses the same
// strings; test/unit/extension/manifest.test.ts checks that the two agree. vscode-free.

export const EXTENSION_ID = 'minikafka.minikafka';
export const VIEW_CONTAINER_ID = 'minikafka';
export const CLUSTERS_VIEW_ID = 'minikafka.clusters';

export const Commands = {
  startCluster: 'minikafka.startCluster',
  stopCluster: 'minikafka.stopCluster',
  restartCluster: 'minikafka.restartCluster',
  chooseDataFolder: 'minikafka.chooseDataFolder',
  addConnection: 'minikafka.addConnection',
  editConnection: 'minikafka.editConnection',
  removeConnection: 'minikafka.removeConnection',
  refresh: 'minikafka.refresh',
  createTopic: 'minikafka.createTopic',
  filterTopics: 'minikafka.filterTopics',
  deleteTopic: 'minikafka.deleteTopic',
  editTopicConfig: 'minikafka.editTopicConfig',
  describeTopic: 'minikafka.describeTopic',
  killBroker: 'minikafka.killBroker',
  killController: 'minikafka.killController',
  pauseBroker: 'minikafka.pauseBroker',
  resumeBroker: 'minikafka.resumeBroker',
  stopBroker: 'minikafka.stopBroker',
  restartBroker: 'minikafka.restartBroker',
  killPartitionLeader: 'minikafka.killPartitionLeader',
  electPreferredLeaders: 'minikafka.electPreferredLeaders',
  reassignPartition: 'minikafka.reassignPartition',
  resetGroupOffsets: 'minikafka.resetGroupOffsets',
  deleteGroup: 'minikafka.deleteGroup',
  copyBootstrapServers: 'minikafka.copyBootstrapServers',
  addAcl: 'minikafka.addAcl',
  removeAcl: 'minikafka.removeAcl',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Commands registered by the webview panels (src/extension/panels), listed so the manifest check knows them. */
export const PanelCommands = {
  openProducer: 'minikafka.openProducer',
  tailTopic: 'minikafka.tailTopic',
  tailGroup: 'minikafka.tailGroup',
} as const;

export const ContextKeys = {
  /** true while the embedded mini-cluster runs (drives view/title menus). */
  embeddedRunning: 'minikafka.embeddedRunning',
} as const;

/** The embedded cluster's ClusterRef id. Saved connections use their own ids (`conn-…`). */
export const EMBEDDED_CLUSTER_ID = 'embedded';

/** Tests point the embedded cluster at a temp dir with this variable (it wins over the setting). */
export const EMBEDDED_DIR_ENV = 'MINIKAFKA_EMBEDDED_DIR';

/** Key of a saved connection's password in SecretStorage. */
export function passwordSecretKey(connectionId: string): string {
  return `minikafka.connection.${connectionId}.password`;
}

export const OUTPUT_CHANNEL_NAME = 'MiniKafka';
