// Placeholder rows: empty folders, errors in words, "starting…". vscode-free.
import type { ItemPresentation, PlaceholderNode } from './node';
import { Colors } from './node';

export function placeholderItem(node: PlaceholderNode): ItemPresentation {
  const icon =
    node.severity === 'error' ? { id: 'error', color: Colors.error } : node.severity === 'loading' ? { id: 'loading~spin' } : { id: 'info', color: Colors.muted };
  return {
    id: node.id,
    label: node.label,
    tooltip: node.tooltip ?? node.label,
    contextValue: node.severity === 'error' ? 'placeholder.error' : 'placeholder',
    icon,
    collapsible: 'none',
    ...(node.command ? { command: node.command } : {}),
  };
}
