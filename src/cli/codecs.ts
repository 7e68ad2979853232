// kafkajs writes and reads gzip only. The CLI gives it snappy and lz4 (write and read) and zstd (read) from the
// project's own codec, the same code the broker uses, so no native module is needed.

import { registerCompressionCodec } from '../client/producer';
import { compress, decompress } from '../protocol/records/compression';
import { CompressionType } from '../protocol/records/batchHeader';

let registered = false;

export function registerProjectCodecs(): void {
  if (registered) return;
  registered = true;
  for (const [name, type] of [
    ['snappy', CompressionType.Snappy],
    ['lz4', CompressionType.Lz4],
  ] as const) {
    registerCompressionCodec(name, { compress: (data) => compress(type, data), decompress: (data) => decompress(type, data) });
  }
  registerCompressionCodec('zstd', {
    compress: () => {
      throw new Error('zstd compression is not available (minikafka can only decompress zstd)');
    },
    decompress: (data) => decompress(CompressionType.Zstd, data),
  });
}
