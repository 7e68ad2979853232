// `minikafka start` in words when the setup is wrong: a data directory it cannot use, a wildcard listen address
// without an address clients can reach, and SASL users given outside argv (a file, an environment variable).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/cli';

const scratch = mkdtempSync(join(tmpdir(), 'minikafka-cli-faults-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `minikafka start` expecting it to refuse: one line on stderr, no stack trace, a non-zero exit. */
async function refusedStart(args: string[], env?: NodeJS.ProcessEnv, uid?: number) {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--control-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ?? process.env,
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.notEqual(code, 0, `start should have failed: ${stdout}${stderr}`);
  assert.notEqual(code, null, 'start hung (killed after 15 s)');
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  assert.equal(stdout, '');
  return lines[0];
}

describe('an unusable data directory', () => {
  test('a path under /proc: one line, exit 1 (and no hang)', async () => {
    assert.equal(await refusedStart(['--dir', '/proc/minikafka-x']), 'minikafka: cannot use data directory /proc/minikafka-x: no such file or directory (ENOENT)');
  });

  test('a file in the way, or under the path', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    assert.equal(await refusedStart(['--dir', file]), `minikafka: cannot use data directory ${file}: not a directory (ENOTDIR)`);
    assert.equal(await refusedStart(['--dir', join(file, 'sub'), '--brokers', '1']), `minikafka: cannot use data directory ${join(file, 'sub')}: not a directory (ENOTDIR)`);
  });

  test('a read-only file system', async (t) => {
    const mountPoint = join(scratch, 'ro');
    mkdirSync(mountPoint);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint], { stdio: 'pipe' });
    } catch {
      return t.skip('cannot mount a read-only tmpfs (needs root)');
    }
    try {
      assert.equal(await refusedStart(['--dir', mountPoint]), `minikafka: cannot use data directory ${mountPoint}: read-only file system (EROFS)`);
      assert.equal(await refusedStart(['--dir', join(mountPoint, 'data'), '--brokers', '1']), `minikafka: cannot use data directory ${join(mountPoint, 'data')}: read-only file system (EROFS)`);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  test('a directory the user may not write', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run the CLI as another user');
    const locked = join(scratch, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    chmodSync(scratch, 0o755);
    const nobody = 65534;
    assert.equal(await refusedStart(['--dir', join(locked, 'data')], { ...process.env, HOME: '/tmp' }, nobody), `minikafka: cannot use data directory ${join(locked, 'data')}: permission denied (EACCES)`);
  });
});

