// The acks=all check shared by the failover tests (kafkajs, kcat): what a producer was told is durable must be
// read back, in the order it was acknowledged within its partition.
import assert from 'node:assert/strict';

export interface PartitionValue {
  partition: number;
  value: string;
}

/**
 * Asserts that every acknowledged message is among the messages read back (extra, unacknowledged writes are
 * allowed: a failed request may still have been written) and that, within each partition, acknowledged
 * messages appear in the order they were acknowledged.
 */
export function assertAckedReadBack(acked: PartitionValue[], read: PartitionValue[]): void {
  const partitions = [...new Set(acked.map((m) => m.partition))].sort((a, b) => a - b);
  for (const partition of partitions) {
    const readValues = read.filter((m) => m.partition === partition).map((m) => m.value);
    const position = new Map<string, number>();
    readValues.forEach((v, i) => position.set(v, position.has(v) ? position.get(v)! : i));
    const ackedValues = acked.filter((m) => m.partition === partition).map((m) => m.value);
    const missing = ackedValues.filter((v) => !position.has(v));
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} acknowledged message(s) lost on partition ${partition}`);
    const positions = ackedValues.map((v) => position.get(v)!);
    const firstInversion = positions.findIndex((p, i) => i > 0 && p < positions[i - 1]);
    assert.equal(firstInversion, -1, `order broken on partition ${partition}: ${ackedValues[firstInversion - 1]} was acknowledged before ${ackedValues[firstInversion]} but is read after it`);
  }
}
