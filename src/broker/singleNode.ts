// One broker with its controller in the same process: what `minikafka start --brokers 1` runs, and what
// most broker tests start on port 0.

import { join } from 'node:path';
import { Broker } from './broker';
import { BrokerConfig } from './configs';
import { Controller } from './controller';
import { localControllerChannel } from './controllerChannel';
import type { MetadataDelta } from './metadata';
import { Logger, nopLogger } from './logger';
import type { ListenerSecurity } from './security/listener';

export interface SingleNodeOptions {
  dir: string;
  host?: string;
  port?: number;
  nodeId?: number;
  config?: Partial<BrokerConfig>;
  logger?: Logger;
  /** TLS and/or SASL on the listener (see security/listener.ts). */
  security?: ListenerSecurity;
}

export interface SingleNode {
  broker: Broker;
  controller: Controller;
  bootstrap: string;
  stop(): Promise<void>;
}

export async function startSingleNode(opts: SingleNodeOptions): Promise<SingleNode> {
  const logger = opts.logger ?? nopLogger;
  const nodeId = opts.nodeId ?? 1;
  const config = opts.config ?? {};
  const controller = new Controller({
    metadataFile: join(opts.dir, 'cluster-metadata.json'),
    defaults: {
      numPartitions: Number(config['num.partitions'] ?? 1),
      defaultReplicationFactor: Number(config['default.replication.factor'] ?? 1),
    },
    logger,
  });
  const broker = new Broker({
    nodeId,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    logDir: join(opts.dir, `broker-${nodeId}`),
    controller: localControllerChannel(controller),
    config: { 'offsets.topic.replication.factor': '1', ...config },
    logger,
    security: opts.security,
  });
  await broker.start();
  // The whole image once, then the controller's deltas as it publishes them.
  broker.applyMetadata(controller.snapshot());
  const onChange = (delta: MetadataDelta) => broker.applyMetadataDelta(delta);
  controller.on('change', onChange);
  controller.registerBroker({ id: nodeId, host: broker.host, port: broker.port, internalPort: broker.internalPort, rack: null });
  return {
    broker,
    controller,
    bootstrap: `${broker.host}:${broker.port}`,
    async stop() {
      controller.off('change', onChange);
      await broker.stop();
    },
  };
}
