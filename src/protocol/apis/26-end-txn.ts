// EndTxn (key 26), versions 0-3, flexible from 3.
// Commits (committed=true) or aborts the producer's transaction: the coordinator persists PrepareCommit/PrepareAbort,
// answers, then writes markers to every partition of the transaction and persists CompleteCommit/CompleteAbort.
// v1 is v0; from v2 a fenced producer gets PRODUCER_FENCED 90 instead of INVALID_PRODUCER_EPOCH 47. v4-5 (KIP-890 epoch bump per transaction) are not served.

import { api, bool, int16, int32, int64, string, struct } from '../schema';

export const EndTxn = api({
  key: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request: struct({
    transactionalId: string,
    producerId: int64,
    producerEpoch: int16,
    committed: bool,
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
  }),
});
