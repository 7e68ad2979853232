// The consumer-group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
// OffsetFetch, DescribeGroups, ListGroups, DeleteGroups, OffsetDelete): thin adapters from the wire types to
// the GroupCoordinator, which holds the behaviour.

import { OffsetCommit } from '../../protocol/apis/08-offset-commit';
import { OffsetFetch } from '../../protocol/apis/09-offset-fetch';
import { FindCoordinator } from '../../protocol/apis/10-find-coordinator';
import { JoinGroup } from '../../protocol/apis/11-join-group';
import { Heartbeat } from '../../protocol/apis/12-heartbeat';
import { LeaveGroup } from '../../protocol/apis/13-leave-group';
import { SyncGroup } from '../../protocol/apis/14-sync-group';
import { DescribeGroups } from '../../protocol/apis/15-describe-groups';
import { ListGroups } from '../../protocol/apis/16-list-groups';
import { DeleteGroups } from '../../protocol/apis/42-delete-groups';
import { OffsetDelete } from '../../protocol/apis/47-offset-delete';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { may, mayOnCluster, Op, ResourceType } from './authz';

type R<A> = RequestOf<A>;
type S<A> = ResponseOf<A>;

const TRANSACTION_KEY_TYPE = 1;

const mayGroup = (ctx: HandlerContext, operation: Op, groupId: string) => may(ctx, operation, ResourceType.GROUP, groupId);

/** KIP-345: a member replaced by a newer one with the same group.instance.id is fenced. */
const fencedStatic = (ctx: HandlerContext, groupId: string, memberId: string, groupInstanceId: string | null) =>
  ctx.broker.groups.describe(groupId).group?.isFencedStaticMember(memberId, groupInstanceId) ?? false;

export async function handleFindCoordinator(req: R<typeof FindCoordinator>, ctx: HandlerContext): Promise<S<typeof FindCoordinator>> {
  const keys = ctx.version >= 4 ? req.coordinatorKeys : [req.key];
  const coordinators = await Promise.all(
    keys.map(async (key) => {
      if (req.keyType === TRANSACTION_KEY_TYPE) {
        if (!may(ctx, Op.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) return { key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: null };
        return { key, ...(await ctx.broker.txns.findCoordinator(key)) };
      }
      if (!mayGroup(ctx, Op.DESCRIBE, key)) return { key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
      return { key, ...(await ctx.broker.groups.findCoordinator(key)) };
    }),
  );
  const first = coordinators[0] ?? { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: null };
  return {
    throttleTimeMs: 0,
    errorCode: first.errorCode,
    errorMessage: first.errorMessage,
    nodeId: first.nodeId,
    host: first.host,
    port: first.port,
    coordinators,
  };
}

export async function handleJoinGroup(req: R<typeof JoinGroup>, ctx: HandlerContext): Promise<S<typeof JoinGroup>> {
  if (!mayGroup(ctx, Op.READ, req.groupId)) {
    const protocolName = ctx.version < 7 ? '' : null;
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolType: null, protocolName, leader: '', skipAssignment: false, memberId: req.memberId, members: [] };
  }
  const res = await ctx.broker.groups.join(req.groupId, {
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    clientId: ctx.header.clientId ?? '',
    clientHost: `/${ctx.conn.socket.remoteAddress ?? ''}`,
    sessionTimeoutMs: req.sessionTimeoutMs,
    // v0 has no rebalance timeout: Kafka uses the session timeout.
    rebalanceTimeoutMs: ctx.version === 0 || req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
    protocolType: req.protocolType,
    protocols: req.protocols,
  });
  return {
    throttleTimeMs: 0,
    errorCode: res.errorCode,
    generationId: res.generationId,
    protocolType: res.protocolType,
    // Before v7 the protocol name is not nullable.
    protocolName: ctx.version < 7 ? (res.protocolName ?? '') : res.protocolName,
    leader: res.leader,
    skipAssignment: false,
    memberId: res.memberId,
    members: res.members,
  };
}

export async function handleSyncGroup(req: R<typeof SyncGroup>, ctx: HandlerContext): Promise<S<typeof SyncGroup>> {
  if (!mayGroup(ctx, Op.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  if (fencedStatic(ctx, req.groupId, req.memberId, req.groupInstanceId)) return { throttleTimeMs: 0, errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  const res = await ctx.broker.groups.sync(req.groupId, req.memberId, req.generationId, req.assignments);
  return { throttleTimeMs: 0, errorCode: res.errorCode, protocolType: res.protocolType, protocolName: res.protocolName, assignment: res.assignment };
}

export function handleHeartbeat(req: R<typeof Heartbeat>, ctx: HandlerContext): S<typeof Heartbeat> {
  if (!mayGroup(ctx, Op.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
  if (fencedStatic(ctx, req.groupId, req.memberId, req.groupInstanceId)) return { throttleTimeMs: 0, errorCode: ErrorCode.FENCED_INSTANCE_ID };
  return { throttleTimeMs: 0, errorCode: ctx.broker.groups.heartbeat(req.groupId, req.memberId, req.generationId) };
}

export function handleLeaveGroup(req: R<typeof LeaveGroup>, ctx: HandlerContext): S<typeof LeaveGroup> {
  const members = ctx.version >= 3 ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) : [{ memberId: req.memberId, groupInstanceId: null }];
  if (!mayGroup(ctx, Op.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
  const res = ctx.broker.groups.leave(req.groupId, members);
  return {
    throttleTimeMs: 0,
    errorCode: res.errorCode,
    members: members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: res.members[i] })),
  };
}

export async function handleOffsetCommit(req: R<typeof OffsetCommit>, ctx: HandlerContext): Promise<S<typeof OffsetCommit>> {
  const answer = (code: (topic: string) => number) => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code(t.name) })) })),
  });
  // Kafka: READ on the group, then READ on each topic (partitions of other topics are refused one by one).
  if (!mayGroup(ctx, Op.READ, req.groupId)) return answer(() => ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (fencedStatic(ctx, req.groupId, req.memberId, req.groupInstanceId)) return answer(() => ErrorCode.FENCED_INSTANCE_ID);
  const readable = new Set(req.topics.filter((t) => may(ctx, Op.READ, ResourceType.TOPIC, t.name)).map((t) => t.name));
  const flat = req.topics.filter((t) => readable.has(t.name)).flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata })),
  );
  // v0 has no generation: a v0 commit is a standalone commit.
  const generation = ctx.version === 0 ? -1 : req.generationIdOrMemberEpoch;
  const codes = flat.length > 0 || readable.size === req.topics.length ? await ctx.broker.groups.commitOffsets(req.groupId, ctx.version === 0 ? '' : req.memberId, generation, flat) : [];
  let i = 0;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: readable.has(t.name) ? codes[i++] : ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    })),
  };
}

function fetchGroupOffsets(ctx: HandlerContext, groupId: string, topics: Array<{ name: string; partitionIndexes: number[] }> | null, requireStable = false) {
  const fetched = mayGroup(ctx, Op.DESCRIBE, groupId)
    ? ctx.broker.groups.fetchOffsets(groupId, topics?.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) ?? null)
    : { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, offsets: [] };
  // Kafka: offsets of topics the principal may not describe are left out of an all-topics answer, and refused
  // one by one when named.
  const describable = (topic: string) => may(ctx, Op.DESCRIBE, ResourceType.TOPIC, topic);
  const res = {
    errorCode: fetched.errorCode,
    offsets: fetched.offsets
      .filter((o) => topics !== null || describable(o.topic))
      .map((o) => (describable(o.topic) ? o : { ...o, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
  };
  const byTopic = new Map<string, Array<{ partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; metadata: string | null; errorCode: number }>>();
  if (res.errorCode !== 0 && topics) {
    // Older versions have no top-level error: report it on every partition.
    for (const t of topics) byTopic.set(t.name, t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: res.errorCode })));
  }
  for (const o of res.offsets) {
    if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
    // require_stable (v7+, KIP-447): an offset an open transaction will change is not answered yet (retriable).
    if (requireStable && ctx.broker.groups.hasPendingTxnOffsets(groupId, o.topic, o.partition)) {
      byTopic.get(o.topic)!.push({ partitionIndex: o.partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
      continue;
    }
    byTopic.get(o.topic)!.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: o.errorCode });
  }
  return { errorCode: res.errorCode, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
}

export function handleOffsetFetch(req: R<typeof OffsetFetch>, ctx: HandlerContext): S<typeof OffsetFetch> {
  if (ctx.version >= 8) {
    return {
      throttleTimeMs: 0,
      topics: [],
      errorCode: 0,
      groups: req.groups.map((g) => {
        const r = fetchGroupOffsets(ctx, g.groupId, g.topics, req.requireStable);
        return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
      }),
    };
  }
  const r = fetchGroupOffsets(ctx, req.groupId, req.topics, req.requireStable);
  return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode, groups: [] };
}

export function handleDescribeGroups(req: R<typeof DescribeGroups>, ctx: HandlerContext): S<typeof DescribeGroups> {
  return {
    throttleTimeMs: 0,
    groups: req.groups.map((groupId) => {
      if (!mayGroup(ctx, Op.DESCRIBE, groupId)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
      }
      const d = ctx.broker.groups.describe(groupId);
      const g = d.group;
      const stable = g && (g.state === 'Stable' || g.state === 'CompletingRebalance');
      return {
        errorCode: d.errorCode,
        groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: stable ? (g.protocolName ?? '') : '',
        members: g
          ? [...g.members.values()].map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              // Metadata and assignment are only meaningful once a protocol is chosen (Kafka sends them when Stable).
              memberMetadata: stable ? (m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? Buffer.alloc(0)) : Buffer.alloc(0),
              memberAssignment: g.state === 'Stable' ? m.assignment : Buffer.alloc(0),
            }))
          : [],
        authorizedOperations: -2147483648,
      };
    }),
  };
}

export function handleListGroups(req: R<typeof ListGroups>, ctx: HandlerContext): S<typeof ListGroups> {
  const states = new Set(req.statesFilter.map((s) => s.toLowerCase()));
  const types = new Set(req.typesFilter.map((s) => s.toLowerCase()));
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: ctx.broker.groups
      .list()
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .filter((g) => types.size === 0 || types.has('classic'))
      // Kafka: every group with DESCRIBE on the cluster, else those the principal may describe.
      .filter((g) => mayOnCluster(ctx, Op.DESCRIBE) || mayGroup(ctx, Op.DESCRIBE, g.groupId))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
  };
}

export async function handleDeleteGroups(req: R<typeof DeleteGroups>, ctx: HandlerContext): Promise<S<typeof DeleteGroups>> {
  const results = [];
  for (const groupId of req.groupsNames) {
    results.push({ groupId, errorCode: mayGroup(ctx, Op.DELETE, groupId) ? await ctx.broker.groups.deleteGroup(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED });
  }
  return { throttleTimeMs: 0, results };
}

export async function handleOffsetDelete(req: R<typeof OffsetDelete>, ctx: HandlerContext): Promise<S<typeof OffsetDelete>> {
  if (!mayGroup(ctx, Op.DELETE, req.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
  const res = await ctx.broker.groups.deleteOffsets(req.groupId, req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })));
  return {
    errorCode: res.errorCode,
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: res.partitions.find((x) => x.topic === t.name && x.partition === p.partitionIndex)?.errorCode ?? res.errorCode,
      })),
    })),
  };
}
