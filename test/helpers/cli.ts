// Runs the built CLI (dist/cli.js) as a real child process.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The built CLI: MINIKAFKA_CLI if set, else dist/cli.js relative to this file's tsc output (out/test/helpers/),
 * else dist/cli.js under the working directory (for test files bundled elsewhere, e.g. out/h4/).
 */
export const CLI = process.env.MINIKAFKA_CLI ?? locateCli();

function locateCli(): string {
  const besideOut = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
  return existsSync(besideOut) ? besideOut : join(process.cwd(), 'dist', 'cli.js');
}

export interface CliProcess {
  child: ChildProcess;
  /** Port of the first broker, from the `bootstrap:` line. */
  port: number;
  bootstrap: string;
  output: () => string;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

/**
 * Starts `minikafka <args>` and resolves once it prints its `bootstrap:` line. `wrapper` runs it through a command
 * that execs the rest (e.g. `prlimit --nofile=256:256`), so that the child is still the CLI's own process.
 */
export function spawnCli(args: string[], timeoutMs = 15000, wrapper: string[] = []): Promise<CliProcess> {
  const argv = [...wrapper, process.execPath, CLI, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`minikafka ${args.join(' ')} did not print bootstrap within ${timeoutMs} ms\n${out}\n${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /bootstrap: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const bootstrap = m[1].split(',')[0];
        resolve({
          child,
          port: Number(bootstrap.split(':')[1]),
          bootstrap: m[1],
          output: () => out + err,
          kill: (s = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(s);
          },
          exited,
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`minikafka ${args.join(' ')} exited with ${code} before it was ready\n${out}\n${err}`));
    });
  });
}

/** Runs `minikafka <args>` to completion and returns its exit code and output. */
export function runCli(args: string[], input?: string, timeoutMs = 30000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`minikafka ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
