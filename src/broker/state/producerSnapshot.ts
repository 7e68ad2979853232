// Producer state snapshot files (Kafka's `<20-digit offset>.snapshot` in the partition directory): the idempotent
// producers' state as of a log offset, so that opening or truncating a log replays only the batch headers after the
// snapshot instead of the whole log.
//
// Binary, versioned and checksummed (a torn or corrupt file is detected and ignored, never half-trusted):
//   version int16 | crc uint32 (CRC-32C of everything after it) | producerCount int32 | producers...
//   producer: producerId int64 | epoch int16 | lastTimestamp int64 | coordinatorEpoch int32 |
//             currentTxnFirstOffset int64 | batchCount int8 | batches (oldest first)...
//   batch:    firstSeq int32 | lastSeq int32 | firstOffset int64 | lastOffset int64 | timestamp int64
// Unlike Kafka's snapshot (which keeps only each producer's last batch), all retained batches are written, so a
// retry of any of the last five batches is still recognised after a restart.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInt64, writeInt64 } from '../../protocol/records/batchHeader';
import { crc32c } from '../../protocol/records/crc32c';
import { unlinkIfExists, writeFileAtomically } from './checkpointFile';
import type { ProducerEntry } from './producerState';

export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const FILE_HEADER = 2 + 4 + 4;
const PRODUCER_HEADER = 8 + 2 + 8 + 4 + 8 + 1;
const BATCH_SIZE = 4 + 4 + 8 + 8 + 8;

export function snapshotFileName(offset: number): string {
  return String(offset).padStart(20, '0') + SNAPSHOT_SUFFIX;
}

/** The offset of a `<20 digits>.snapshot` file name, or null for any other file. */
export function parseSnapshotFileName(fileName: string): number | null {
  const match = /^(\d{20})\.snapshot$/.exec(fileName);
  return match ? Number(match[1]) : null;
}

/** Offsets of the snapshot files in `dir`, ascending. */
export function listSnapshotOffsets(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map(parseSnapshotFileName)
    .filter((offset): offset is number => offset !== null)
    .sort((a, b) => a - b);
}

export function encodeSnapshot(producers: Iterable<ProducerEntry>): Buffer {
  const list = [...producers];
  const size = FILE_HEADER + list.reduce((sum, p) => sum + PRODUCER_HEADER + p.batches.length * BATCH_SIZE, 0);
  const buf = Buffer.alloc(size);
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  buf.writeInt32BE(list.length, 6);
  let pos = FILE_HEADER;
  for (const p of list) {
    writeInt64(buf, p.producerId, pos);
    buf.writeInt16BE(p.epoch, pos + 8);
    writeInt64(buf, p.lastTimestamp, pos + 10);
    buf.writeInt32BE(p.coordinatorEpoch, pos + 18);
    writeInt64(buf, p.currentTxnFirstOffset, pos + 22);
    buf.writeInt8(p.batches.length, pos + 30);
    pos += PRODUCER_HEADER;
    for (const b of p.batches) {
      buf.writeInt32BE(b.firstSeq, pos);
      buf.writeInt32BE(b.lastSeq, pos + 4);
      writeInt64(buf, b.firstOffset, pos + 8);
      writeInt64(buf, b.lastOffset, pos + 16);
      writeInt64(buf, b.timestamp, pos + 24);
      pos += BATCH_SIZE;
    }
  }
  buf.writeUInt32BE(crc32c(buf, 6, buf.length), 2);
  return buf;
}

/** The producers in a snapshot, or an Error saying why the bytes are not a valid snapshot. */
export function decodeSnapshot(buf: Buffer): ProducerEntry[] | Error {
  if (buf.length < FILE_HEADER) return new Error(`${buf.length} bytes, shorter than the header`);
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION) return new Error(`version ${version}, expected ${SNAPSHOT_VERSION}`);
  if (buf.readUInt32BE(2) !== crc32c(buf, 6, buf.length)) return new Error('CRC-32C mismatch');
  const count = buf.readInt32BE(6);
  const out: ProducerEntry[] = [];
  let pos = FILE_HEADER;
  for (let i = 0; i < count; i++) {
    if (pos + PRODUCER_HEADER > buf.length) return new Error(`truncated at producer ${i} of ${count}`);
    const batchCount = buf.readInt8(pos + 30);
    const entry: ProducerEntry = {
      producerId: readInt64(buf, pos),
      epoch: buf.readInt16BE(pos + 8),
      lastTimestamp: readInt64(buf, pos + 10),
      coordinatorEpoch: buf.readInt32BE(pos + 18),
      currentTxnFirstOffset: readInt64(buf, pos + 22),
      batches: [],
    };
    pos += PRODUCER_HEADER;
    if (batchCount < 0 || pos + batchCount * BATCH_SIZE > buf.length) return new Error(`bad batch count ${batchCount} for producer ${entry.producerId}`);
    for (let j = 0; j < batchCount; j++) {
      entry.batches.push({
        firstSeq: buf.readInt32BE(pos),
        lastSeq: buf.readInt32BE(pos + 4),
        firstOffset: readInt64(buf, pos + 8),
        lastOffset: readInt64(buf, pos + 16),
        timestamp: readInt64(buf, pos + 24),
      });
      pos += BATCH_SIZE;
    }
    out.push(entry);
  }
  if (pos !== buf.length) return new Error(`${buf.length - pos} trailing bytes`);
  return out;
}

export function writeSnapshotFile(dir: string, offset: number, producers: Iterable<ProducerEntry>): void {
  writeFileAtomically(path.join(dir, snapshotFileName(offset)), encodeSnapshot(producers));
}

/** The snapshot's producers, or an Error (missing, unreadable or corrupt file). */
export function readSnapshotFile(dir: string, offset: number): ProducerEntry[] | Error {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path.join(dir, snapshotFileName(offset)));
  } catch (err) {
    return err as Error;
  }
  return decodeSnapshot(buf);
}

export function deleteSnapshotFile(dir: string, offset: number): void {
  unlinkIfExists(path.join(dir, snapshotFileName(offset)));
}
