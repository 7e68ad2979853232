// Starts a real mini-cluster (`minikafka start`, one OS process per broker) in a temp dir for one test file.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { ControlClient } from '../../src/broker/cluster/controlClient';
import type { ClusterState } from '../../src/broker/cluster/supervisor';
import { tempDir } from './broker';
import { CliProcess, spawnCli } from './cli';

export interface TestCluster {
  dir: string;
  cli: CliProcess;
  bootstrap: string;
  brokers: string[];
  control: ControlClient;
  state(): Promise<ClusterState>;
  /** Waits until `cond(state)` holds, polling the control endpoint. */
  waitForState(cond: (s: ClusterState) => boolean, timeoutMs?: number, what?: string): Promise<ClusterState>;
  /** Stops the cluster (SIGTERM: every broker shuts down cleanly) and removes its data unless keepData. */
  stop(keepData?: boolean): Promise<void>;
}

/** `wrapper`: a command the CLI runs under (see spawnCli), e.g. `prlimit --nofile=256:256` for the whole cluster. */
export async function startTestCluster(args: string[] = [], brokers = 3, dir = tempDir('minikafka-cluster-'), wrapper: string[] = []): Promise<TestCluster> {
  // MINIKAFKA_TEST_LOG_LEVEL=info shows the supervisor's and brokers' decisions in a failed wait's message.
  const level = process.env.MINIKAFKA_TEST_LOG_LEVEL ?? 'warn';
  const cli = await spawnCli(['start', '--brokers', String(brokers), '--port', '0', '--dir', dir, '--session-timeout-ms', '1500', '--log-level', level, ...args], 15000, wrapper);
  const control = ControlClient.forDir(dir);
  const brokerPids = (await control.state()).brokers.map((b) => b.pid).filter((p): p is number => p !== null);
  const tc: TestCluster = {
    dir,
    cli,
    bootstrap: cli.bootstrap,
    brokers: cli.bootstrap.split(','),
    control,
    state: () => control.state(),
    async waitForState(cond, timeoutMs = 15000, what = 'cluster state') {
      const deadline = Date.now() + timeoutMs;
      let last: ClusterState | undefined;
      while (Date.now() < deadline) {
        last = await control.state();
        if (cond(last)) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      const log = cli.output().split('\n').slice(-60).join('\n');
      throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last?.topics.map((t) => ({ t: t.name, p: t.partitions })))} brokers ${JSON.stringify(last?.brokers)}\n--- cluster log (tail) ---\n${log}`);
    },
    async stop(keepData = false) {
      cli.kill('SIGTERM');
      const timer = setTimeout(() => cli.kill('SIGKILL'), 10000);
      await cli.exited;
      clearTimeout(timer);
      // Brokers outlive a supervisor that did not stop cleanly (and would start a new one): leave none behind.
      for (const pid of brokerPids) {
        try {
          // Only if the pid is still one of this cluster's brokers (not a reused pid).
          if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`log.dir=${dir}/broker-`)) process.kill(pid, 'SIGKILL');
        } catch {
          /* gone, as it should be */
        }
      }
      // Brokers restarted by a supervisor that a broker started (after a controller kill) are no pid known here:
      // any process still naming this cluster's dir goes too, before its files are removed under it.
      killProcessesNaming(dir);
      if (!keepData) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  return tc;
}

export function partitionOf(state: ClusterState, topic: string, partition: number) {
  const p = state.topics.find((t) => t.name === topic)?.partitions[partition];
  if (!p) throw new Error(`no partition ${topic}-${partition}`);
  return p;
}

/** Whether every partition of `topic` has its full replica set in sync. */
export function fullIsr(state: ClusterState, topic: string): boolean {
  const t = state.topics.find((x) => x.name === topic);
  return !!t && t.partitions.every((p) => p.leader !== -1 && p.isr.length === p.replicas.length);
}

/**
 * A crash of a partition's leader: kill -9 its broker process (through the control endpoint), wait until
 * another replica leads, leave it down for `downMs`, restart it, and wait until every partition of the topic
 * has its full ISR again. Returns the broker that was killed and when (ms since the epoch) it was killed, when
 * the new leader was seen, and when its restart was asked for.
 */
export async function bounceLeader(
  cluster: TestCluster,
  topic: string,
  partition: number,
  opts: { downMs?: number; isrTimeoutMs?: number } = {},
): Promise<{ victim: number; killedAt: number; electedAt: number; restartAt: number }> {
  const victim = partitionOf(await cluster.state(), topic, partition).leader;
  if (victim < 0) throw new Error(`${topic}-${partition} has no leader to kill`);
  const killedAt = Date.now();
  await cluster.control.broker(victim, 'kill');
  await cluster.waitForState((s) => {
    const p = partitionOf(s, topic, partition);
    return p.leader !== victim && p.leader !== -1;
  }, 10000, `a new leader for ${topic}-${partition} after killing broker ${victim}`);
  const electedAt = Date.now();
  await new Promise((r) => setTimeout(r, opts.downMs ?? 500));
  const restartAt = Date.now();
  await cluster.control.broker(victim, 'restart');
  await cluster.waitForState((s) => fullIsr(s, topic), opts.isrTimeoutMs ?? 20000, `the full ISR of ${topic} after restarting broker ${victim}`);
  return { victim, killedAt, electedAt, restartAt };
}

/** SIGKILLs every process (other than this one) whose command line names `dir` (brokers' log.dir, a supervisor's --dir). */
export function killProcessesNaming(dir: string): void {
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((arg) => arg === dir || arg.startsWith(`log.dir=${dir}/`))) process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already, or not ours to read */
    }
  }
}
