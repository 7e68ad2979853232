// What children() functions receive besides their node. vscode-free.
import type { TreeOptions } from './node';

export interface TreeContext {
  options(): TreeOptions;
  /** The text a cluster's Topics folder is filtered by (Filter Topics…), if any. */
  topicFilter(clusterId: string): string | undefined;
}
