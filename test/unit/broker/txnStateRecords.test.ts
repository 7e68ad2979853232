// __transaction_state records in Kafka's TransactionLogKey v0 / TransactionLogValue v0 layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue, txnStatePartitionFor, TxnStateValue } from '../../../src/broker/txn/stateRecords';

test('key: version 0 then the transactional id as a classic string', () => {
  const key = encodeTxnKey('tx-é');
  assert.deepEqual([...key], [0, 0, 0, 5, ...Buffer.from('tx-é')]);
  assert.equal(decodeTxnKey(key), 'tx-é');
  assert.equal(decodeTxnKey(Buffer.from([0, 1, 0, 0])), undefined);
});

test('value: Kafka v0 field order, partitions grouped by topic, round trip', () => {
  const value: TxnStateValue = {
    producerId: 9007199254740,
    producerEpoch: 7,
    timeoutMs: 60000,
    state: 'PrepareCommit',
    partitions: [
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 2 },
      { topic: 'a', partition: 1 },
    ],
    lastUpdateTimestamp: 1_700_000_000_123,
    startTimestamp: 1_700_000_000_000,
  };
  const buf = encodeTxnValue(value);
  assert.equal(buf.readInt16BE(0), 0); // version
  assert.equal(Number(buf.readBigInt64BE(2)), value.producerId);
  assert.equal(buf.readInt16BE(10), 7);
  assert.equal(buf.readInt32BE(12), 60000);
  assert.equal(buf.readInt8(16), 2); // PrepareCommit
  assert.equal(buf.readInt32BE(17), 2); // two topics
  const decoded = decodeTxnValue(buf);
  assert.deepEqual(decoded, {
    ...value,
    partitions: [
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 2 },
    ],
  });
  assert.equal(buf.length, 17 + 4 + (2 + 1 + 4 + 8) + (2 + 1 + 4 + 4) + 16);
});

test('partition of a transactional id: abs(Java String.hashCode) % partitions, as for groups', () => {
  // "hello".hashCode() == 99162322 in Java.
  assert.equal(txnStatePartitionFor('hello', 50), 99162322 % 50);
});
