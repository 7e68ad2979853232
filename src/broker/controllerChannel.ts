// How a broker talks to the controller. In a single-broker process the controller is in the same process;
// in the mini-cluster it lives in the supervisor and this interface is carried over IPC. Every method is
// async so both look the same to the handlers.

import type { Controller, CreateTopicResult, CreateTopicSpec } from './controller';
import type { MetadataImage, PartitionState, TopicState } from './metadata';
import type { AclBinding, AclFilter } from './security/authorizer';
import type { ScramCredential, ScramMechanismName } from './security/sasl';
import type { QuotaEntityPart } from './quotas';

export interface ControllerChannel {
  createTopic(spec: CreateTopicSpec, validateOnly: boolean): Promise<TopicState>;
  /** Many topics in one call: one delta and one durable write for all (CreateTopics). */
  createTopics(specs: CreateTopicSpec[], validateOnly: boolean): Promise<CreateTopicResult[]>;
  deleteTopic(name: string): Promise<void>;
  createPartitions(name: string, count: number, assignments: number[][] | null, validateOnly: boolean): Promise<void>;
  alterTopicConfigs(name: string, changes: Record<string, string | null>, replace: boolean, validateOnly: boolean): Promise<void>;
  alterBrokerConfigs(resource: string, changes: Record<string, string | null>, replace: boolean, validateOnly: boolean): Promise<void>;
  alterIsr(topic: string, partition: number, leaderEpoch: number, isr: number[]): Promise<PartitionState>;
  /** The broker cannot open its logs of these partitions: out of their ISRs, leadership moved (Controller.replicasOffline). */
  replicasOffline(brokerId: number, partitions: Array<{ topic: string; partition: number }>): Promise<void>;
  allocateProducerIds(): Promise<{ start: number; length: number }>;
  electLeaders(type: number, partitions: Array<{ topic: string; partition: number }> | null): Promise<Array<{ topic: string; partition: number; errorCode: number; message: string | null }>>;
  reassignPartition(topic: string, partition: number, replicas: number[] | null): Promise<void>;
  listReassignments(): Promise<Array<{ topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }>>;
  createAcls(bindings: AclBinding[]): Promise<Array<{ errorCode: number; errorMessage: string | null }>>;
  deleteAcls(filters: AclFilter[]): Promise<Array<{ errorCode: number; errorMessage: string | null; deleted: AclBinding[] }>>;
  alterScramCredentials(
    deletions: Array<{ name: string; mechanism: ScramMechanismName | null }>,
    upsertions: Array<{ name: string; mechanism: ScramMechanismName | null; credential: ScramCredential | null; problem?: string }>,
  ): Promise<Array<{ user: string; errorCode: number; errorMessage: string | null }>>;
  alterClientQuotas(
    entries: Array<{ entity: QuotaEntityPart[]; ops: Array<{ key: string; value: number; remove: boolean }> }>,
    validateOnly: boolean,
  ): Promise<Array<{ errorCode: number; errorMessage: string | null }>>;
  /** The newest metadata image, whole (a broker that missed a delta). */
  metadata(): Promise<MetadataImage>;
  /**
   * The controller's current epoch, answered after every delta up to it was sent: a broker whose image is at that
   * epoch when the answer arrives is current (Broker.syncMetadata), without moving the whole image.
   */
  metadataEpoch(): Promise<number>;
}

/** A channel to a controller living in this process. */
export function localControllerChannel(controller: Controller): ControllerChannel {
  return {
    createTopic: async (spec, validateOnly) => controller.createTopic(spec, validateOnly),
    createTopics: async (specs, validateOnly) => controller.createTopics(specs, validateOnly),
    deleteTopic: async (name) => controller.deleteTopic(name),
    createPartitions: async (name, count, assignments, validateOnly) => controller.createPartitions(name, count, assignments, validateOnly),
    alterTopicConfigs: async (name, changes, replace, validateOnly) => controller.alterTopicConfigs(name, changes, replace, validateOnly),
    alterBrokerConfigs: async (resource, changes, replace, validateOnly) => controller.alterBrokerConfigs(resource, changes, replace, validateOnly),
    alterIsr: async (topic, partition, epoch, isr) => controller.alterIsr(topic, partition, epoch, isr),
    replicasOffline: async (brokerId, partitions) => controller.replicasOffline(brokerId, partitions),
    allocateProducerIds: async () => controller.allocateProducerIds(),
    electLeaders: async (type, partitions) => controller.electLeaders(type, partitions),
    reassignPartition: async (topic, partition, replicas) => controller.reassignPartition(topic, partition, replicas),
    listReassignments: async () => controller.listReassignments(),
    createAcls: async (bindings) => controller.createAcls(bindings),
    deleteAcls: async (filters) => controller.deleteAcls(filters),
    alterScramCredentials: async (deletions, upsertions) => controller.alterScramCredentials(deletions, upsertions),
    alterClientQuotas: async (entries, validateOnly) => controller.alterClientQuotas(entries, validateOnly),
    metadata: async () => controller.snapshot(),
    metadataEpoch: async () => controller.metadataEpoch(),
  };
}
