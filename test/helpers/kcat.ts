// Runs Debian's kcat (librdkafka), unmodified, as a child process: to completion, or as a long-running producer
// whose stdin the test feeds line by line. Every run is bounded: a hang is killed and fails with kcat's output.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const KCAT = '/usr/bin/kcat';

/** Fails with how to get kcat when it is missing (CI installs it in .ci/run). */
export function requireKcat(): void {
  if (!existsSync(KCAT)) throw new Error(`${KCAT} not found: install the Debian package "kcat" (apt-get install -y kcat; .ci/run does it)`);
}

export interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function describeKcat(args: string[], r: { stdout: string; stderr: string }): string {
  return `kcat ${args.join(' ')}\n--- stdout ---\n${r.stdout.slice(-3000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`;
}

export interface KcatProcess {
  child: ChildProcess;
  /** Writes to kcat's stdin (a producer reads one message per line). */
  write(data: string): void;
  /** Closes stdin: a producer then delivers what it has and exits. */
  end(): void;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when kcat exits; rejects (after killing it) if it runs longer than the timeout. */
  done: Promise<KcatResult>;
}

/** Starts kcat with stdin open. */
export function spawnKcat(args: string[], timeoutMs = 60000): KcatProcess {
  const child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => {}); // kcat may exit before reading all of stdin; its exit code tells
  const done = new Promise<KcatResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${describeKcat(args, { stdout, stderr })}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${KCAT}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    write: (data) => {
      if (child.stdin!.writable) child.stdin!.write(data);
    },
    end: () => child.stdin!.end(),
    stdout: () => stdout,
    stderr: () => stderr,
    done,
  };
}

/** Runs kcat to completion with `input` on stdin. */
export function runKcat(args: string[], input = '', timeoutMs = 30000): Promise<KcatResult> {
  const p = spawnKcat(args, timeoutMs);
  p.write(input);
  p.end();
  return p.done;
}
