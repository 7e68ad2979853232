// What children() functions receive besides their node. vscode-free.
import type { TreeOptions } from './node';

export interface TreeContext {
  options(): TreeOptions;
}
