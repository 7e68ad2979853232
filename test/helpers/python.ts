// Python client drivers (test/cluster/*_clients.py) as child processes printing one JSON event per line, and the
// seeded PRNG the fault schedules use (test/cluster/chaos.test.ts and eos.test.ts).
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const PYTHON = '/usr/bin/python3';

export type Ev = Record<string, any>;

export interface PyProcess {
  child: ChildProcess;
  events: Ev[];
  stderr: () => string;
  /** Resolves on the first event that matches (or rejects after timeoutMs, or when the process exits first). */
  waitEvent(match: (e: Ev) => boolean, timeoutMs: number, what: string): Promise<Ev>;
  send(line: string): void;
  exited: Promise<number | null>;
  kill(): void;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** SIGKILLs every driver still running. */
export function killDrivers(): void {
  for (const c of [...children]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** test/cluster/<file>, from out/test/cluster or the repo root. */
export function driverPath(file: string): string {
  const candidates = [join(__dirname, '..', '..', '..', 'test', 'cluster', file), join(process.cwd(), 'test', 'cluster', file)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${file} not found in ${candidates.join(', ')}`);
  return found;
}

export function spawnPython(file: string, mode: string, params: Record<string, unknown>, logFile?: string): PyProcess {
  const child = spawn(PYTHON, [driverPath(file), mode, JSON.stringify(params)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: '' } });
  children.add(child);
  const events: Ev[] = [];
  const waiters: Array<{ match: (e: Ev) => boolean; resolve: (e: Ev) => void }> = [];
  let stderr = '';
  const raw: string[] = [];
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (stderr.length > 200000) stderr = stderr.slice(-100000);
  });
  child.stdin!.on('error', () => {});
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (logFile) raw.push(line);
    let e: Ev;
    try {
      e = JSON.parse(line);
    } catch {
      e = { e: 'garbage', line };
    }
    events.push(e);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].match(e)) {
        waiters[i].resolve(e);
        waiters.splice(i, 1);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      if (logFile) writeFileSync(logFile, raw.join('\n') + '\n');
      resolve(code);
    }),
  );
  return {
    child,
    events,
    stderr: () => stderr,
    waitEvent(match, timeoutMs, what) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${mode}: no ${what} within ${timeoutMs} ms\n--- stderr (tail) ---\n${stderr.slice(-3000)}`)), timeoutMs);
        waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${mode} exited with ${code} before ${what}\n--- stderr (tail) ---\n${stderr.slice(-3000)}`));
        });
      });
    },
    send(line) {
      if (child.stdin!.writable) child.stdin!.write(line + '\n');
    },
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** mulberry32: a small, seedable PRNG (same seed, same plan). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
