// The embedded cluster's controller: the supervisor process, shown as the last row under Brokers so that which
// process holds the controller (and whether it replaced a killed one) is visible, with Kill Controller on it.
// vscode-free.
import type { ControllerRow } from '../model/types';
import type { ControllerNode, ItemPresentation } from './node';
import { Colors, nodeId } from './node';

export function controllerNode(clusterId: string, controller: ControllerRow): ControllerNode {
  return { kind: 'controller', id: nodeId(clusterId, 'brokers', 'controller'), clusterId, controller };
}

export function controllerItem(node: ControllerNode): ItemPresentation {
  const c = node.controller;
  const tooltip = [
    `The supervisor process (pid ${c.pid}) holds the controller: it elects leaders, tracks ISRs and fences brokers.`,
    `Up since ${new Date(c.startedAt).toLocaleString()}.`,
    'If it dies, brokers keep serving with the last metadata and one of them starts a new supervisor within seconds.',
  ];
  if (c.adopted) tooltip.push('This supervisor replaced one that died: it adopted the running brokers.');
  return {
    id: node.id,
    label: 'Controller',
    description: `supervisor · pid ${c.pid}${c.adopted ? ' · adopted' : ''}`,
    tooltip: tooltip.join('\n'),
    contextValue: 'controller.embedded',
    icon: { id: 'server-process', color: Colors.ok },
    collapsible: 'none',
  };
}
