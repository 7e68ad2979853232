// The cap on open segment files (state/openFiles.ts) and in-memory indexes (state/sparseIndex.ts): many partition
// logs in one process stay under the budget, least recently used files are closed and reopened on demand without
// losing a byte, the index files hold every entry after close, EMFILE closes half of the cache and retries, and the
// budget comes from the soft ulimit or the broker config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogConfig, PartitionLog } from '../../../src/broker/state/partitionLog';
import { execFileSync } from 'node:child_process';
import { OpenFileCache, OPEN_FILES_MAX_CONFIG, openLogFiles, openLogFilesBudget, softOpenFileLimit } from '../../../src/broker/state/openFiles';
import { buildBatch } from '../../../src/protocol/records/recordBatch';

const linuxOnly = { skip: process.platform !== 'linux' };
const quiet = { logger: { info: () => {}, warn: (m: string) => assert.fail(m) } };
const config = (o: Partial<LogConfig> = {}): LogConfig => ({ segmentBytes: 64 * 1024, segmentMs: 7 * 24 * 3600 * 1000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 512, ...o });
const openFds = () => fs.readdirSync('/proc/self/fd').length;
/** Files this process holds open under `dir`. */
function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir + path.sep)) out.push(path.basename(target));
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return out;
}
const settle = () => new Promise((r) => setTimeout(r, 200));

function batchOf(i: number): Buffer {
  return buildBatch({ records: Array.from({ length: 5 }, (_, k) => ({ value: Buffer.alloc(200, (i + k) & 0xff) })) });
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-openfiles-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('60 partition logs under a budget of 10 open segment files: fds stay bounded, every byte reads back', linuxOnly, async (t) => {
  const dir = tempDir(t);
  const previousMax = openLogFiles.max;
  t.after(() => openLogFiles.setMax(previousMax));
  openLogFiles.setMax(10);
  const before = openFds();
  const evictionsBefore = openLogFiles.evictions;
  const logs = Array.from({ length: 60 }, (_, i) => PartitionLog.open(path.join(dir, `t-${i}`), config(), quiet));
  const written: Buffer[][] = logs.map(() => []);
  for (let round = 0; round < 8; round++) {
    logs.forEach((log, i) => {
      const batch = batchOf(round * 100 + i);
      log.appendAsLeader(batch, 0);
      written[i].push(batch);
    });
    assert.ok(openFds() - before <= 10 + 2, `open fds ${openFds() - before} over the budget of 10 after round ${round}`);
  }
  assert.ok(openLogFiles.size <= 10);
  assert.ok(openLogFiles.evictions - evictionsBefore > 400, 'files were closed and reopened');
  logs.forEach((log, i) => {
    const data = log.read(0, 1 << 20, log.logEndOffset);
    assert.deepEqual(data, Buffer.concat(written[i]), `partition ${i} reads back what was written`);
  });
  for (const log of logs) log.close();
  await settle();
  assert.equal(openFds(), before, 'closing every log closes every descriptor');
});

test('indexes live in memory: index files are complete after close and trusted by the next open', linuxOnly, async (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, config({ segmentBytes: 8 * 1024 }), quiet);
  const batches: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    const batch = batchOf(i);
    log.appendAsLeader(batch, 0);
    batches.push(batch);
  }
  assert.ok(log.segmentCount() > 3);
  // Segment .log files only: no descriptor per index (each replica used to hold three).
  const held = openFilesUnder(dir);
  assert.ok(held.length >= 1 && held.every((f) => f.endsWith('.log')), `open: ${held.join(', ')}`);
  log.close();
  await settle();
  assert.deepEqual(openFilesUnder(dir), [], 'nothing left open');
  const indexes = fs.readdirSync(dir).filter((f) => f.endsWith('.index'));
  assert.equal(indexes.length, log.segmentCount());
  for (const f of indexes) assert.ok(fs.statSync(path.join(dir, f)).size > 0, `${f} holds entries`);
  const warnings: string[] = [];
  const again = PartitionLog.open(dir, config({ segmentBytes: 8 * 1024 }), { logger: { info: () => {}, warn: (m: string) => warnings.push(m) } });
  assert.deepEqual(warnings, [], 'every index trusted as written');
  for (let offset = 0; offset < again.logEndOffset; offset += 7) {
    const data = again.read(offset, 1, again.logEndOffset);
    const base = Number(data.readBigInt64BE(0));
    assert.ok(base <= offset && offset < base + 5, `read at ${offset} found the batch at ${base}`);
  }
  assert.deepEqual(again.read(0, 1 << 20, again.logEndOffset), Buffer.concat(batches));
  again.close();
});

test('EMFILE: half of the cached files are closed, the budget comes down, and the open succeeds on the retry', (t) => {
  const dir = tempDir(t);
  const realOpen = fs.openSync;
  let failures = 0;
  const cache = new OpenFileCache(100, (file, flags, mode) => {
    if (failures-- > 0) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    return realOpen(file, flags, mode);
  });
  const released: number[] = [];
  const holders = Array.from({ length: 8 }, (_, i) => ({
    fd: -1,
    releaseFile() {
      released.push(i);
      fs.closeSync(this.fd);
      cache.forget(this);
    },
  }));
  holders.forEach((h, i) => (h.fd = cache.open(h, path.join(dir, `f${i}`), 'w+')));
  cache.touch(holders[0]); // now the most recently used
  failures = 1;
  const fd = cache.openTransient(path.join(dir, 'index'), 'w');
  fs.closeSync(fd);
  assert.deepEqual(released, [1, 2, 3, 4], 'the four least recently used were closed');
  assert.equal(cache.size, 4);
  assert.equal(cache.max, 4, 'the budget came down to what is left');
  // A second EMFILE in a row is not hidden.
  failures = 2;
  assert.throws(() => cache.openTransient(path.join(dir, 'index'), 'w'), /EMFILE/);
  for (const h of holders) if (!released.includes(holders.indexOf(h))) h.releaseFile();
});

test('budget: a quarter of the soft ulimit -n, or minikafka.log.open.files.max', linuxOnly, () => {
  const soft = softOpenFileLimit();
  assert.ok(soft === Infinity || (typeof soft === 'number' && soft > 0), `soft limit read: ${soft}`);
  const shell = execFileSync('sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8' }).trim();
  assert.equal(soft, shell === 'unlimited' ? Infinity : Number(shell), 'the limit a shell reports');
  assert.equal(openLogFilesBudget({}, () => 20_000), 5_000);
  assert.equal(openLogFilesBudget({}, () => 1_024), 256);
  assert.equal(openLogFilesBudget({}, () => 12), 8, 'never below a handful');
  assert.equal(openLogFilesBudget({}, () => null), 1_024, 'unknown limit');
  assert.equal(openLogFilesBudget({ [OPEN_FILES_MAX_CONFIG]: '300' }, () => 20_000), 300);
  assert.throws(() => openLogFilesBudget({ [OPEN_FILES_MAX_CONFIG]: 'lots' }), /positive integer/);
  if (soft !== null && soft !== Infinity) assert.equal(openLogFilesBudget({}), Math.max(8, Math.floor(soft / 4)));
});
