// Reusable Buffers for large log reads (the records of fetch responses). glibc malloc serves 32 MiB and more
// with a fresh mmap() whatever its settings, and a fresh mapping pays a page fault per 4 KiB page on first touch:
// reading a 32 MiB fetch into a new Buffer ran at about 500 MB/s, against about 3 GB/s into memory touched before.
// Buffers lent here come back to a small free list once the connection has handed them to the socket (Connection
// calls releaseReadBuffer for every chunk it wrote); a lent buffer that is dropped instead (a long-poll re-read,
// a reader that keeps the bytes) is simply garbage-collected, as the lent set holds it weakly.

/** Smaller reads come from malloc's heap, which reuses warm memory anyway. */
export const POOLED_READ_MIN_BYTES = 4 * 1024 * 1024;
const MAX_FREE_BYTES = 128 * 1024 * 1024;
const GRANULE = 1024 * 1024;
/** Free buffers are dropped after this long without a large read. */
const IDLE_TRIM_MS = 30_000;

const free: ArrayBufferLike[] = [];
let freeBytes = 0;
const lent = new WeakSet<ArrayBufferLike>();
let lastAcquireMs = 0;
let trimTimer: NodeJS.Timeout | undefined;

/** A Buffer of exactly `size` bytes (contents undefined) for a log read. */
export function acquireReadBuffer(size: number): Buffer {
  if (size < POOLED_READ_MIN_BYTES) return Buffer.allocUnsafe(size);
  lastAcquireMs = Date.now();
  // The smallest free buffer that fits without wasting more than half of it.
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const n = free[i].byteLength;
    if (n >= size && n <= 2 * size && (best < 0 || n < free[best].byteLength)) best = i;
  }
  let ab: ArrayBufferLike;
  if (best >= 0) {
    ab = free.splice(best, 1)[0];
    freeBytes -= ab.byteLength;
  } else {
    ab = Buffer.allocUnsafeSlow(Math.ceil(size / GRANULE) * GRANULE).buffer;
  }
  lent.add(ab);
  return Buffer.from(ab, 0, size);
}

/** Whether `chunk` is (a view of) a buffer lent by acquireReadBuffer and not yet released. */
export function isLentReadBuffer(chunk: Uint8Array): boolean {
  return lent.has(chunk.buffer);
}

/**
 * Gives a lent buffer back: only once nothing reads it any more (the socket has taken the bytes, or the reader
 * copied what it keeps). Any view of it may be passed; anything else is ignored.
 */
export function releaseReadBuffer(chunk: Uint8Array): void {
  const ab = chunk.buffer;
  if (!lent.delete(ab)) return;
  if (freeBytes + ab.byteLength > MAX_FREE_BYTES) return;
  free.push(ab);
  freeBytes += ab.byteLength;
  if (trimTimer === undefined) {
    trimTimer = setInterval(() => {
      if (Date.now() - lastAcquireMs < IDLE_TRIM_MS) return;
      free.length = 0;
      freeBytes = 0;
      clearInterval(trimTimer);
      trimTimer = undefined;
    }, IDLE_TRIM_MS);
    trimTimer.unref();
  }
}
