// Entry point of one broker OS process in the mini-cluster (bundled as dist/broker.js and forked by the
// supervisor). The controller lives in the supervisor: controller calls go over IPC, metadata images come
// back the same way, and heartbeats tell the supervisor this process is alive (a SIGSTOPped process stops
// heartbeating and is fenced after the session timeout).

import { KafkaError } from '../../protocol/errorCode';
import { Broker } from '../broker';
import type { ControllerChannel } from '../controllerChannel';
import { streamLogger } from '../logger';
import { BROKER_OPTIONS_ENV, BrokerProcessOptions, BrokerToSupervisor, ControllerMethod, SupervisorToBroker } from './ipc';

function send(msg: BrokerToSupervisor): void {
  if (process.connected) process.send!(msg);
}

function ipcControllerChannel(): ControllerChannel {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  process.on('message', (msg: SupervisorToBroker) => {
    if (msg.type !== 'reply') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new KafkaError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  });
  const call = (method: ControllerMethod) => (...args: unknown[]) =>
    new Promise((resolve, reject) => {
      if (!process.connected) return reject(new Error('supervisor is gone'));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      send({ type: 'call', id, method, args });
    });
  const methods: ControllerMethod[] = [
    'createTopic', 'deleteTopic', 'createPartitions', 'alterTopicConfigs', 'alterIsr', 'allocateProducerIds',
    'electLeaders', 'reassignPartition', 'listReassignments', 'createAcls', 'deleteAcls', 'metadata',
  ];
  return Object.fromEntries(methods.map((m) => [m, call(m)])) as unknown as ControllerChannel;
}

async function main(): Promise<void> {
  const raw = process.env[BROKER_OPTIONS_ENV];
  if (!raw || !process.send) {
    process.stderr.write('broker.js is started by `minikafka start`, not directly\n');
    process.exit(2);
  }
  const opts = JSON.parse(raw) as BrokerProcessOptions;
  const logger = streamLogger('minikafka', opts.logLevel);
  const broker = new Broker({
    nodeId: opts.nodeId,
    host: opts.host,
    port: opts.port,
    logDir: opts.logDir,
    controller: ipcControllerChannel(),
    config: opts.config,
    logger,
    security: opts.security,
    interBrokerSecret: opts.interBrokerSecret,
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`stopping: ${why}`);
    await broker.stop();
    process.exit(0);
  };
  process.on('message', (msg: SupervisorToBroker) => {
    if (msg.type === 'metadata') broker.applyMetadata(msg.image);
    else if (msg.type === 'shutdown') void stop('asked by the supervisor');
  });
  // If the supervisor dies, do not linger as an orphan holding the port.
  process.on('disconnect', () => void stop('supervisor disconnected'));
  // SIGTERM is how Kafka's own scripts stop a broker, and Kafka then shuts down in a controlled way: leadership
  // moves to the other replicas before the process exits. The supervisor does that (and then sends 'shutdown');
  // without a supervisor, or if it does not answer in time, the broker just stops.
  process.on('SIGTERM', () => {
    if (!process.connected) return void stop('SIGTERM');
    send({ type: 'stop-request' });
    setTimeout(() => void stop('SIGTERM (no controlled shutdown from the supervisor)'), 10_000).unref();
  });
  process.on('SIGINT', () => {
    /* the supervisor decides; a terminal Ctrl-C reaches the whole group */
  });
  await broker.start();
  send({ type: 'ready', host: broker.host, port: broker.port, internalPort: broker.internalPort, pid: process.pid });
  setInterval(() => send({ type: 'heartbeat' }), opts.heartbeatIntervalMs);
}

main().catch((err) => {
  process.stderr.write(`broker failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
