// The registry of every API this project can encode and decode, one file per API key. The router and the
// ApiVersions answer are derived from ALL_APIS (sorted by key); API_BY_KEY looks a definition up by key.

import type { ApiDef } from '../schema';
import { Produce } from './00-produce';
import { Fetch } from './01-fetch';
import { ListOffsets } from './02-list-offsets';
import { Metadata } from './03-metadata';
import { OffsetCommit } from './08-offset-commit';
import { OffsetFetch } from './09-offset-fetch';
import { FindCoordinator } from './10-find-coordinator';
import { JoinGroup } from './11-join-group';
import { Heartbeat } from './12-heartbeat';
import { LeaveGroup } from './13-leave-group';
import { SyncGroup } from './14-sync-group';
import { DescribeGroups } from './15-describe-groups';
import { ListGroups } from './16-list-groups';
import { SaslHandshake } from './17-sasl-handshake';
import { ApiVersions } from './18-api-versions';
import { CreateTopics } from './19-create-topics';
import { DeleteTopics } from './20-delete-topics';
import { DeleteRecords } from './21-delete-records';
import { InitProducerId } from './22-init-producer-id';
import { OffsetForLeaderEpoch } from './23-offset-for-leader-epoch';
import { AddPartitionsToTxn } from './24-add-partitions-to-txn';
import { AddOffsetsToTxn } from './25-add-offsets-to-txn';
import { EndTxn } from './26-end-txn';
import { WriteTxnMarkers } from './27-write-txn-markers';
import { TxnOffsetCommit } from './28-txn-offset-commit';
import { DescribeProducers } from './61-describe-producers';
import { DescribeTransactions } from './65-describe-transactions';
import { ListTransactions } from './66-list-transactions';
import { DescribeAcls } from './29-describe-acls';
import { CreateAcls } from './30-create-acls';
import { DeleteAcls } from './31-delete-acls';
import { DescribeConfigs } from './32-describe-configs';
import { AlterConfigs } from './33-alter-configs';
import { DescribeLogDirs } from './35-describe-log-dirs';
import { SaslAuthenticate } from './36-sasl-authenticate';
import { CreatePartitions } from './37-create-partitions';
import { DeleteGroups } from './42-delete-groups';
import { ElectLeaders } from './43-elect-leaders';
import { IncrementalAlterConfigs } from './44-incremental-alter-configs';
import { AlterPartitionReassignments } from './45-alter-partition-reassignments';
import { ListPartitionReassignments } from './46-list-partition-reassignments';
import { OffsetDelete } from './47-offset-delete';
import { DescribeClientQuotas } from './48-describe-client-quotas';
import { AlterClientQuotas } from './49-alter-client-quotas';
import { DescribeUserScramCredentials } from './50-describe-user-scram-credentials';
import { AlterUserScramCredentials } from './51-alter-user-scram-credentials';
import { DescribeCluster } from './60-describe-cluster';

export {
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  SaslHandshake,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  DeleteRecords,
  InitProducerId,
  OffsetForLeaderEpoch,
  DescribeAcls,
  CreateAcls,
  DeleteAcls,
  DescribeConfigs,
  AlterConfigs,
  DescribeLogDirs,
  SaslAuthenticate,
  CreatePartitions,
  DeleteGroups,
  ElectLeaders,
  IncrementalAlterConfigs,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  OffsetDelete,
  DescribeClientQuotas,
  AlterClientQuotas,
  DescribeUserScramCredentials,
  AlterUserScramCredentials,
  DescribeCluster,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  WriteTxnMarkers,
  TxnOffsetCommit,
  DescribeProducers,
  DescribeTransactions,
  ListTransactions,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyApi = ApiDef<any, any>;

export const ALL_APIS: AnyApi[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  SaslHandshake,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  DeleteRecords,
  InitProducerId,
  OffsetForLeaderEpoch,
  DescribeAcls,
  CreateAcls,
  DeleteAcls,
  DescribeConfigs,
  AlterConfigs,
  DescribeLogDirs,
  SaslAuthenticate,
  CreatePartitions,
  DeleteGroups,
  ElectLeaders,
  IncrementalAlterConfigs,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  OffsetDelete,
  DescribeClientQuotas,
  AlterClientQuotas,
  DescribeUserScramCredentials,
  AlterUserScramCredentials,
  DescribeCluster,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  WriteTxnMarkers,
  TxnOffsetCommit,
  DescribeProducers,
  DescribeTransactions,
  ListTransactions,
].sort((a: AnyApi, b: AnyApi) => a.key - b.key);

export const API_BY_KEY: Map<number, AnyApi> = new Map(ALL_APIS.map((a) => [a.key, a]));
