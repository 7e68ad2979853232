// Starts a real broker on a free loopback port with a fresh data directory, for one test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSingleNode, SingleNode } from '../../src/broker/singleNode';
import { BrokerConfig } from '../../src/broker/configs';
import { streamLogger, nopLogger } from '../../src/broker/logger';

export interface TestBroker extends SingleNode {
  dir: string;
  /** Stop, then start again on the same port and data directory (a clean restart). */
  restart(): Promise<TestBroker>;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'minikafka-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const testLogger = process.env.MINIKAFKA_TEST_LOG ? streamLogger('test', process.env.MINIKAFKA_TEST_LOG as 'debug') : nopLogger;

export async function startTestBroker(config: Partial<BrokerConfig> = {}, dir = tempDir(), port = 0): Promise<TestBroker> {
  const node = await startSingleNode({ dir, port, config, logger: testLogger });
  const tb: TestBroker = {
    ...node,
    dir,
    async restart() {
      const p = node.broker.port;
      await node.stop();
      return startTestBroker(config, dir, p);
    },
    async cleanup() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return tb;
}
