// Every served API and the version range it serves. ApiVersions answers from this table, so nothing is
// advertised that is not implemented (clients infer broker features from it).
import * as apis from '../../protocol/apis';
import { Router } from '../router';
import { handleProduce } from './00-produce';
import { handleFetch } from './01-fetch';
import { handleListOffsets } from './02-list-offsets';
import { handleMetadata } from './03-metadata';
import { handleApiVersions } from './18-api-versions';
import { handleCreateTopics } from './19-create-topics';
import { handleCreateAcls, handleDeleteAcls, handleDescribeAcls } from './acls';
import { handleDescribeLogDirs } from './log-dirs';
import { handleAlterConfigs, handleDescribeConfigs, handleIncrementalAlterConfigs } from './configs-admin';
import {
  handleDeleteGroups,
  handleDescribeGroups,
  handleFindCoordinator,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetDelete,
  handleOffsetFetch,
  handleSyncGroup,
} from './groups';
import { handleAlterPartitionReassignments, handleElectLeaders, handleListPartitionReassignments } from './leadership-admin';
import { handleDescribeCluster, handleInitProducerId, handleOffsetForLeaderEpoch } from './misc';
import { handleSaslAuthenticate, handleSaslHandshake } from './sasl';
import { fetchedBytes, handleAlterClientQuotas, handleDescribeClientQuotas, producedBytes, withByteRateQuota, withoutFetchedData } from './client-quotas';
import { handleAlterUserScramCredentials, handleDescribeUserScramCredentials } from './scram-credentials';
import { handleCreatePartitions, handleDeleteRecords, handleDeleteTopics } from './topics-admin';
import {
  handleAddOffsetsToTxn,
  handleAddPartitionsToTxn,
  handleDescribeProducers,
  handleDescribeTransactions,
  handleEndTxn,
  handleListTransactions,
  handleTxnOffsetCommit,
  handleWriteTxnMarkers,
} from './txn';

export function buildRouter(): Router {
  return new Router()
    .register(apis.Produce, withByteRateQuota('producer_byte_rate', handleProduce, producedBytes))
    .register(apis.Fetch, withByteRateQuota('consumer_byte_rate', handleFetch, fetchedBytes, withoutFetchedData))
    .register(apis.ListOffsets, handleListOffsets)
    .register(apis.Metadata, handleMetadata)
    .register(apis.OffsetCommit, handleOffsetCommit)
    .register(apis.OffsetFetch, handleOffsetFetch)
    .register(apis.FindCoordinator, handleFindCoordinator)
    .register(apis.JoinGroup, handleJoinGroup)
    .register(apis.Heartbeat, handleHeartbeat)
    .register(apis.LeaveGroup, handleLeaveGroup)
    .register(apis.SyncGroup, handleSyncGroup)
    .register(apis.DescribeGroups, handleDescribeGroups)
    .register(apis.ListGroups, handleListGroups)
    .register(apis.SaslHandshake, handleSaslHandshake)
    .register(apis.ApiVersions, handleApiVersions)
    .register(apis.CreateTopics, handleCreateTopics)
    .register(apis.DeleteTopics, handleDeleteTopics)
    .register(apis.DeleteRecords, handleDeleteRecords)
    .register(apis.InitProducerId, handleInitProducerId)
    .register(apis.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch)
    .register(apis.AddPartitionsToTxn, handleAddPartitionsToTxn)
    .register(apis.AddOffsetsToTxn, handleAddOffsetsToTxn)
    .register(apis.EndTxn, handleEndTxn)
    .register(apis.WriteTxnMarkers, handleWriteTxnMarkers)
    .register(apis.TxnOffsetCommit, handleTxnOffsetCommit)
    .register(apis.DescribeAcls, handleDescribeAcls)
    .register(apis.CreateAcls, handleCreateAcls)
    .register(apis.DeleteAcls, handleDeleteAcls)
    .register(apis.DescribeConfigs, handleDescribeConfigs)
    .register(apis.AlterConfigs, handleAlterConfigs)
    .register(apis.DescribeLogDirs, handleDescribeLogDirs)
    .register(apis.SaslAuthenticate, handleSaslAuthenticate)
    .register(apis.CreatePartitions, handleCreatePartitions)
    .register(apis.DeleteGroups, handleDeleteGroups)
    .register(apis.IncrementalAlterConfigs, handleIncrementalAlterConfigs)
    .register(apis.OffsetDelete, handleOffsetDelete)
    .register(apis.DescribeClientQuotas, handleDescribeClientQuotas)
    .register(apis.AlterClientQuotas, handleAlterClientQuotas)
    .register(apis.DescribeUserScramCredentials, handleDescribeUserScramCredentials)
    .register(apis.AlterUserScramCredentials, handleAlterUserScramCredentials)
    .register(apis.ElectLeaders, handleElectLeaders)
    .register(apis.AlterPartitionReassignments, handleAlterPartitionReassignments)
    .register(apis.ListPartitionReassignments, handleListPartitionReassignments)
    .register(apis.DescribeCluster, handleDescribeCluster)
    .register(apis.DescribeProducers, handleDescribeProducers)
    .register(apis.DescribeTransactions, handleDescribeTransactions)
    .register(apis.ListTransactions, handleListTransactions);
}
