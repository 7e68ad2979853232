// Fetch: consumers read up to the high watermark, or in read_committed (isolation level 1, v4+) up to the last
// stable offset with the aborted transactions of the range read, so that they drop aborted records; followers
// (replica id >= 0) read up to the log end and report their position, which moves the high watermark. Long poll:
// answer at once when MinBytes are available or MaxWaitMs is 0, otherwise wait for new data on any requested
// partition until MaxWaitMs. A mid-batch offset gets the whole batch;
// at least one batch is returned even when larger than the byte limits (KIP-74), or a consumer would stall.

import { Fetch } from '../../protocol/apis/01-fetch';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { Partition } from '../partition';
import { OffsetOutOfRangeError } from '../state/partitionLog';
import { iterateBatchHeaders } from '../../protocol/records/recordBatch';
import { may, mayOnCluster, Op, ResourceType } from './authz';
import { num } from '../configs';
import { FetchSession, mustRespond, SessionPartition, sessionKey } from '../fetchSessions';

type Req = RequestOf<typeof Fetch>;
type Res = ResponseOf<typeof Fetch>;
type PartitionRes = Res['responses'][number]['partitions'][number];

const EMPTY = Buffer.alloc(0);

function partitionResult(partitionIndex: number, errorCode: number, p?: Partition): PartitionRes {
  return {
    partitionIndex,
    errorCode,
    highWatermark: p ? p.highWatermark : -1,
    lastStableOffset: p ? p.log.lastStableOffset : -1,
    logStartOffset: p ? p.logStartOffset : -1,
    divergingEpoch: { epoch: -1, endOffset: -1 },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

/** One partition a fetch reads: from the request itself, or from its fetch session. */
interface Wanted {
  /** The topic as the request named it (v12-) and its id (v13+); the response names it the same way. */
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  partitionMaxBytes: number;
}

type FetchPartition = Req['topics'][number]['partitions'][number];

function wantedOf(topic: string, topicId: string, fp: FetchPartition): Wanted {
  return {
    topic,
    topicId,
    partition: fp.partition,
    fetchOffset: fp.fetchOffset,
    currentLeaderEpoch: fp.currentLeaderEpoch,
    lastFetchedEpoch: fp.lastFetchedEpoch,
    partitionMaxBytes: fp.partitionMaxBytes,
  };
}

function sessionPartitionOf(w: Wanted, fp: FetchPartition): SessionPartition {
  return { ...w, logStartOffset: fp.logStartOffset, sentHighWatermark: -1, sentLogStartOffset: -1 };
}

function updateSessionPartition(sp: SessionPartition, fp: FetchPartition): void {
  sp.fetchOffset = fp.fetchOffset;
  sp.currentLeaderEpoch = fp.currentLeaderEpoch;
  sp.lastFetchedEpoch = fp.lastFetchedEpoch;
  sp.logStartOffset = fp.logStartOffset;
  sp.partitionMaxBytes = fp.partitionMaxBytes;
  // Named again: read it in full this time (its epochs may have moved even where its offset did not).
  sp.replica = undefined;
}

const sessionError = (errorCode: number): Res => ({ throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] });

export function handleFetch(req: Req, ctx: HandlerContext): Res | Promise<Res> {
  const { broker, version } = ctx;
  const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
  const isFollower = replicaId >= 0;
  const byId = version >= 13;
  // v13+ name topics by id: an unknown id is UNKNOWN_TOPIC_ID for its partitions.
  const nameOf = (w: { topic: string; topicId: string }): string | undefined => (byId ? broker.topicNameById(w.topicId) : w.topic);
  const keyOf = (topic: string, topicId: string, partition: number) => sessionKey(byId ? topicId : topic, partition);

  // ---- the fetch context: sessionless, a full fetch opening a session, or an incremental fetch of one (KIP-227)
  let wanted: Wanted[] = [];
  /** The session's record of each wanted partition, in a session fetch (same index as `wanted`). */
  let sessionParts: Array<SessionPartition | undefined> = [];
  let session: FetchSession | undefined;
  let incremental = false;
  const now = Date.now();
  const fullPassMs = Math.min(1000, num(broker.config, 'replica.lag.time.max.ms') / 8);
  const sessionId = version >= 7 ? req.sessionId : 0;
  const sessionEpoch = version >= 7 ? req.sessionEpoch : -1;
  if (sessionEpoch > 0) {
    const found = broker.fetchSessions.incremental(sessionId, sessionEpoch);
    if ('errorCode' in found) return sessionError(found.errorCode);
    session = found.session;
    incremental = true;
    for (const ft of req.forgottenTopicsData) {
      for (const i of ft.partitions) {
        const key = keyOf(ft.topic, ft.topicId, i);
        const sp = session.partitions.get(key);
        if (sp?.replica) session.byReplica.delete(sp.replica);
        session.partitions.delete(key);
      }
    }
    const named: SessionPartition[] = [];
    for (const t of req.topics) {
      for (const fp of t.partitions) {
        const key = keyOf(t.topic, t.topicId, fp.partition);
        let sp = session.partitions.get(key);
        if (sp) {
          if (sp.replica) session.byReplica.delete(sp.replica);
          updateSessionPartition(sp, fp);
        } else session.partitions.set(key, (sp = sessionPartitionOf(wantedOf(t.topic, t.topicId, fp), fp)));
        named.push(sp);
      }
    }
    // Only the partitions named now and those with news since the session's previous fetch (the data journal). A
    // client's session is looked at whole at least every fullPassMs (its ACLs may have changed, which no journal
    // says); a follower's never needs that: its idle partitions count as caught up through the session itself
    // (Partition.caughtUpMs), so an idle follower costs nothing per partition.
    const fullPassDue = !session.privileged && now - session.lastFullPassMs >= fullPassMs;
    const changed = fullPassDue ? undefined : broker.dataJournal.since(session.journalSeq);
    session.journalSeq = broker.dataJournal.seq;
    if (changed) {
      const subset = new Set(named);
      for (const p of changed) {
        const sp = session.byReplica.get(p);
        if (sp) subset.add(sp);
      }
      wanted = [...subset];
    } else {
      session.lastFullPassMs = now;
      wanted = [...session.partitions.values()]; // as they are: no copy of thousands of partitions per fetch
    }
    sessionParts = wanted as SessionPartition[];
  } else {
    if (sessionId !== 0) broker.fetchSessions.remove(sessionId);
    if (sessionEpoch === 0) session = broker.fetchSessions.create(isFollower ? { follower: replicaId } : { connection: ctx.conn.id });
    if (session) {
      session.journalSeq = broker.dataJournal.seq;
      session.lastFullPassMs = now;
    }
    for (const t of req.topics) {
      for (const fp of t.partitions) {
        const w = wantedOf(t.topic, t.topicId, fp);
        if (session) {
          const key = keyOf(t.topic, t.topicId, fp.partition);
          if (session.partitions.has(key)) continue;
          const sp = sessionPartitionOf(w, fp);
          session.partitions.set(key, sp);
          sessionParts.push(sp);
        } else sessionParts.push(undefined);
        wanted.push(w);
      }
    }
  }

  // Consumers need READ on the topic; followers CLUSTER_ACTION, which only the cluster's own inter-broker user
  // has on a SASL listener (without SASL nobody is authenticated, so follower fetches are not checked).
  const followerAllowed = isFollower ? !ctx.conn.sasl || mayOnCluster(ctx, Op.CLUSTER_ACTION) : false;
  const topicAllowed = new Map<string, boolean>();
  const authorized = (name: string): boolean => {
    if (isFollower) return followerAllowed;
    let ok = topicAllowed.get(name);
    if (ok === undefined) topicAllowed.set(name, (ok = may(ctx, Op.READ, ResourceType.TOPIC, name)));
    return ok;
  };
  const readCommitted = !isFollower && req.isolationLevel === 1;

  /** Reads one partition within `budget` bytes (`first`: nothing read yet, so one batch may exceed it). */
  const readOne = (w: Wanted, sp: SessionPartition | undefined, budget: number, first: boolean): { res: PartitionRes; error: boolean } => {
    const name = nameOf(w);
    if (name === undefined) return { res: partitionResult(w.partition, ErrorCode.UNKNOWN_TOPIC_ID), error: true };
    if (!authorized(name)) {
      return { res: partitionResult(w.partition, isFollower ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : ErrorCode.TOPIC_AUTHORIZATION_FAILED), error: true };
    }
    const p = broker.partition(name, w.partition);
    if (!p) return { res: partitionResult(w.partition, broker.missingReplicaError(name, w.partition)), error: true };
    if (sp) {
      sp.replica = p;
      session?.byReplica.set(p, sp);
    }
    if (!p.isLeader) {
      const res = partitionResult(w.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      res.currentLeader = { leaderId: p.state.leader, leaderEpoch: p.state.leaderEpoch };
      return { res, error: true };
    }
    try {
      p.checkLeaderEpoch(w.currentLeaderEpoch);
    } catch (err) {
      return { res: partitionResult(w.partition, (err as KafkaError).code, p), error: true };
    }
    if (isFollower) {
      const diverging = divergence(p, w.lastFetchedEpoch, w.fetchOffset);
      if (diverging) {
        // Answer at once so the follower can truncate.
        const res = partitionResult(w.partition, 0, p);
        res.divergingEpoch = diverging;
        return { res, error: true };
      }
      p.updateFollower(replicaId, w.fetchOffset, now, session);
    }
    const limit = isFollower ? p.logEndOffset : readCommitted ? p.log.lastStableOffset : p.highWatermark;
    const res = partitionResult(w.partition, 0, p);
    if (readCommitted) res.abortedTransactions = [];
    try {
      const maxBytes = first ? Math.min(w.partitionMaxBytes, Math.max(budget, 1)) : Math.min(w.partitionMaxBytes, budget);
      if (maxBytes > 0 || first) {
        const data = p.log.read(w.fetchOffset, maxBytes, limit);
        res.records = data;
        if (readCommitted && data.length > 0) {
          res.abortedTransactions = p.log.abortedTransactions(w.fetchOffset, lastOffsetIn(data) + 1).map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
        }
      }
    } catch (err) {
      if (err instanceof OffsetOutOfRangeError) res.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
      else {
        broker.logger.error(`read of ${p.key} at ${w.fetchOffset} failed: ${(err as Error).message}`);
        res.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      }
      return { res, error: true };
    }
    return { res, error: false };
  };

  /**
   * In an incremental fetch, a partition with nothing new for this fetcher: it fetches at the end of what it may
   * read, and was last told the high watermark and log start offset that still hold. It needs no read and no
   * answer; for a follower, the session still holding it at that offset is what makes it count as caught up
   * (Partition.caughtUpMs). This keeps a client's periodic pass over thousands of idle partitions cheap.
   */
  const idle = (sp: SessionPartition | undefined): boolean => {
    const p = sp?.replica;
    if (!incremental || !sp || !p || p.dropped || !p.isLeader) return false;
    if (sp.currentLeaderEpoch !== -1 && sp.currentLeaderEpoch !== p.leaderEpoch) return false;
    if (sp.sentHighWatermark !== p.highWatermark || sp.sentLogStartOffset !== p.logStartOffset) return false;
    const end = isFollower ? p.logEndOffset : readCommitted ? p.log.lastStableOffset : p.highWatermark;
    return sp.fetchOffset === end && authorized(p.topic);
  };

  // ---- the reads: every wanted partition once, then (in a long poll) only the partitions that had news
  /** Each wanted partition's answer; undefined for an idle partition of an incremental fetch (nothing to say). */
  const results: Array<PartitionRes | undefined> = new Array<PartitionRes | undefined>(wanted.length).fill(undefined);
  let bytes = 0;
  let hasError = false;
  const read = (i: number) => {
    bytes -= results[i]?.records?.length ?? 0;
    const w = wanted[i];
    const sp = sessionParts[i];
    if (idle(sp)) {
      results[i] = undefined;
      return;
    }
    // The first partition with data may exceed the budget by one batch; later ones only use what is left.
    const { res, error } = readOne(w, sp, req.maxBytes - bytes, bytes === 0);
    results[i] = res;
    bytes += res.records?.length ?? 0;
    if (error) hasError = true;
  };
  for (let i = 0; i < wanted.length; i++) read(i);

  /** The response: every partition, or in an incremental fetch only those with news (which the session notes). */
  const respond = (): Res => {
    const topics = new Map<string, Res['responses'][number]>();
    for (let i = 0; i < wanted.length; i++) {
      const w = wanted[i];
      const res = results[i];
      if (!res) continue;
      const sp = sessionParts[i];
      if (sp && !mustRespond(sp, res, true) && incremental) continue;
      const key = byId ? w.topicId : w.topic;
      let t = topics.get(key);
      if (!t) topics.set(key, (t = { topic: w.topic, topicId: w.topicId, partitions: [] }));
      t.partitions.push(res);
    }
    return { throttleTimeMs: 0, errorCode: 0, sessionId: session?.id ?? 0, responses: [...topics.values()], nodeEndpoints: [] };
  };

  // A session fetch may have read none of its partitions (none had news), yet waits for any of them.
  const nothingToWaitFor = session ? session.partitions.size === 0 : wanted.length === 0;
  // A follower that has not fetched the partitions this broker newly leads comes back soon with them (see
  // Broker.followerFetchWaitCap); so does one waiting here when this broker takes new leaderships meanwhile.
  const waitCap = isFollower ? broker.followerFetchWaitCap(replicaId) : undefined;
  const maxWaitMs = waitCap === undefined ? req.maxWaitMs : Math.min(req.maxWaitMs, waitCap);
  if (bytes >= Math.max(req.minBytes, 1) || maxWaitMs <= 0 || hasError || nothingToWaitFor) return respond();

  return new Promise<Res>((resolve) => {
    const unsubscribes: Array<() => void> = [];
    const dirty = new Set<number>();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const u of unsubscribes) u();
      for (const i of dirty) read(i);
      resolve(respond());
    };
    const reread = () => {
      if (settled) return;
      for (const i of dirty) read(i);
      dirty.clear();
      if (bytes >= Math.max(req.minBytes, 1) || hasError) finish();
    };
    // Re-read on the next tick, and only the partitions that had news, so that a burst of appends to one partition
    // is one read of that partition, not of every partition of the fetch.
    const markDirty = (i: number) => {
      if (dirty.size === 0) setImmediate(reread);
      dirty.add(i);
    };
    if (session) {
      // One listener on the broker's data journal: any partition of the session with news joins this fetch.
      const s = session;
      const indexOf = new Map<SessionPartition, number>();
      sessionParts.forEach((sp, i) => sp && indexOf.set(sp, i));
      unsubscribes.push(
        broker.dataJournal.listen((p) => {
          const sp = s.byReplica.get(p);
          if (!sp) return;
          let i = indexOf.get(sp);
          if (i === undefined) {
            i = wanted.push(sp) - 1;
            sessionParts.push(sp);
            results.push(undefined);
            indexOf.set(sp, i);
          }
          markDirty(i);
        }),
      );
    } else {
      for (let i = 0; i < wanted.length; i++) {
        const name = nameOf(wanted[i]);
        const p = name === undefined ? undefined : broker.partition(name, wanted[i].partition);
        if (p) unsubscribes.push(p.onData(() => markDirty(i)));
      }
    }
    // Partitions without news since the first read need no second one: their answer (and, for a follower, the
    // position it reported) stands.
    timer = setTimeout(finish, maxWaitMs);
    if (isFollower) {
      unsubscribes.push(
        broker.onNewLeaderships((inUse) => {
          const cap = settled ? undefined : broker.followerFetchWaitCap(replicaId);
          if (cap === undefined) return;
          clearTimeout(timer);
          // Partitions in use: answer now, so that the follower's next fetch can name them (it applies the same
          // delta at about the same time; if it has not yet, that next fetch waits a millisecond at most, see
          // Broker.followerFetchWaitCap). Idle partitions taken slice by slice: one answer per slice would be a
          // fetch round trip per millisecond of the takeover.
          timer = setTimeout(finish, inUse ? 0 : cap);
        }),
      );
    }
  });
}

/** The last offset of the last whole batch in fetched data. */
function lastOffsetIn(data: Buffer): number {
  let last = -1;
  for (const { header } of iterateBatchHeaders(data)) last = header.baseOffset + header.lastOffsetDelta;
  return last;
}

/**
 * For a follower fetch carrying its last fetched epoch: if our history says its log diverged, return the
 * end offset of the largest epoch <= its epoch, so it truncates there (Kafka's DivergingEpoch, v12+).
 */
function divergence(p: Partition, lastFetchedEpoch: number, fetchOffset: number): { epoch: number; endOffset: number } | undefined {
  if (lastFetchedEpoch < 0) return undefined;
  const { epoch, endOffset } = p.log.leaderEpochs.endOffsetFor(lastFetchedEpoch);
  if (epoch < 0) return undefined;
  if (epoch < lastFetchedEpoch || endOffset < fetchOffset) return { epoch, endOffset };
  return undefined;
}
