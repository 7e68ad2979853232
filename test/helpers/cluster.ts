// Starts a real mini-cluster (`minikafka start`, one OS process per broker) in a temp dir for one test file.
import { rmSync } from 'node:fs';
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

export async function startTestCluster(args: string[] = [], brokers = 3, dir = tempDir('minikafka-cluster-')): Promise<TestCluster> {
  const cli = await spawnCli(['start', '--brokers', String(brokers), '--port', '0', '--dir', dir, '--session-timeout-ms', '1500', '--log-level', 'warn', ...args]);
  const control = ControlClient.forDir(dir);
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
      throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last?.topics.map((t) => ({ t: t.name, p: t.partitions })))} brokers ${JSON.stringify(last?.brokers)}`);
    },
    async stop(keepData = false) {
      cli.kill('SIGTERM');
      const timer = setTimeout(() => cli.kill('SIGKILL'), 10000);
      await cli.exited;
      clearTimeout(timer);
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
  return tc;
}

export function partitionOf(state: ClusterState, topic: string, partition: number) {
  const p = state.topics.find((t) => t.name === topic)?.partitions[partition];
  if (!p) throw new Error(`no partition ${topic}-${partition}`);
  return p;
}
