// The cluster explorer with 1,000 topics (3 partitions each, RF 1) in the full workbench: how long the Topics
// folder takes to show its count and rows, a topic its partitions, and a broker kill (an event that changes a third
// of the partitions) to show in the tree; screenshot of the long list. Topics are created with src/client's admin
// client against the bootstrap servers the tree shows. Screenshots: test-results/screenshots/tree-scale-*.png.
//   MINIKAFKA_E2E_TOPICS=1000 (how many topics)
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterAdmin } from '../../src/client/admin';
import { mapLimit } from '../../src/extension/model/adminSession';
import { commandTitles, contextMenu, dismissNotifications, E2EContext, expandRow, openViewContainer, rowDescription, runCommand, setSidebarWidth, treeRowByLabel, treeText, waitFor, waitForWorkbench } from './workbench';

const TOPICS = Number(process.env.MINIKAFKA_E2E_TOPICS ?? 1000);
const name = (i: number) => `scale-${String(i).padStart(4, '0')}`;

interface Manifest {
  contributes: { commands: { command: string; title: string; category?: string }[]; viewsContainers: { activitybar: { id: string; title: string }[] }; views: Record<string, { id: string; name: string }[]> };
}

export async function run(ctx: E2EContext): Promise<void> {
  const { page, log } = ctx;
  const pkg = JSON.parse(readFileSync(join(ctx.repoRoot, 'package.json'), 'utf8')) as Manifest;
  const titles = commandTitles(pkg);
  const title = (id: string) => titles.get(id)!;
  const container = pkg.contributes.viewsContainers.activitybar[0];
  const view = pkg.contributes.views[container.id][0].name;
  const row = (label: string) => treeRowByLabel(page, view, label);

  await waitForWorkbench(page);
  await openViewContainer(page, container.title);
  await setSidebarWidth(page, 640);
  await runCommand(page, title('minikafka.startCluster'));
  await waitFor('the Mini-cluster row', async () => (await row('Mini-cluster').count()) > 0, 30_000);
  await waitFor('the running cluster to expand', async () => {
    await expandRow(row('Mini-cluster'));
    return (await row('Brokers').count()) > 0;
  }, 90_000, 1000);
  await waitFor('three brokers up', async () => (await treeText(page, view)).filter((l) => /^\s*Broker \d+\s.*\bup\b/.test(l)).length === 3, 90_000);
  const bootstrap = (await rowDescription(row('Mini-cluster'))).split(',').map((s) => s.trim()).filter((s) => /^[\w.-]+:\d+$/.test(s));
  assert.equal(bootstrap.length, 3);

  const admin = new ClusterAdmin({ bootstrapServers: bootstrap, requestTimeoutMs: 120_000 });
  await admin.connect();
  const t0 = Date.now();
  try {
    await mapLimit(Array.from({ length: TOPICS }, (_, i) => name(i)), 8, (n) => admin.createTopic({ name: n, partitions: 3, replicationFactor: 1 }));
  } finally {
    await admin.disconnect();
  }
  log(`created ${TOPICS} topics × 3 partitions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // The folder's count comes from the control state: no request, redrawn once the creations settle.
  const tCount = Date.now();
  const count = new RegExp(`^${TOPICS.toLocaleString('en-US').replace(/,/g, ',?')} topics`);
  await waitFor(`the Topics folder to count ${TOPICS} topics`, async () => count.test(await rowDescription(row('Topics'))), 30_000, 100);
  log(`Topics folder shows the count ${Date.now() - tCount} ms after the last creation`);
  const tExpand = Date.now();
  await expandRow(row('Topics'));
  await waitFor('the first topic rows', async () => (await row(name(0)).count()) > 0, 30_000, 50);
  const expandMs = Date.now() - tExpand;
  log(`expanding Topics (${TOPICS} rows): first rows after ${expandMs} ms`);
  const tTopic = Date.now();
  await expandRow(row(name(1)));
  await waitFor('P0-P2 of the topic with offsets', async () => /offsets \d+–\d+/.test(await rowDescription(row('P2')).catch(() => '')), 30_000, 50);
  const topicMs = Date.now() - tTopic;
  log(`expanding ${name(1)}: partitions with offsets after ${topicMs} ms`);
  const leader = Number(/leader (\d+)/.exec(await rowDescription(row('P0')))?.[1]);
  assert.ok(leader > 0);
  await page.mouse.move(700, 450);
  await dismissNotifications(page);
  log('tree with the long list:\n' + (await treeText(page, view)).join('\n'));
  await ctx.screenshot('topics');

  // Kill P0's leader: a third of all partitions lose their only replica. The tree redraws the Brokers and Topics
  // folders once, not the whole cluster per event.
  await contextMenu(page, row('P0'), title('minikafka.killPartitionLeader').replace(/^[^:]+: /, ''));
  const tKill = Date.now();
  await waitFor(
    `broker ${leader} down and P0 offline in the tree`,
    async () => /\bdown\b/.test(await rowDescription(row(`Broker ${leader}`))) && /^leader none/.test(await rowDescription(row('P0'))) && /offline/.test(await rowDescription(row('Topics'))),
    30_000,
    100,
  );
  log(`broker kill shown in the tree after ${Date.now() - tKill} ms: Topics "${await rowDescription(row('Topics'))}"`);
  await page.mouse.move(700, 450);
  await dismissNotifications(page);
  await ctx.screenshot('broker-down');
}
