// Issues 11 and 13 in the workbench, driven as a person would: start the mini-cluster from the palette, create a
// topic, and let a kafkajs transactional producer commit one transaction, abort one and leave one open; the tree
// shows the open transaction under Transactions and P0's LSO behind its HW (tooltip says why), broker 1's log dir
// with partition sizes, and ACLs off. The tail panel shows the markers under read_committed, then (switched with its
// own Isolation dropdown) the open and aborted records under read_uncommitted. A second `minikafka start` with an
// authorizer and a cleanup interval long enough that a 1 s transaction is left open past its timeout (HANGING) is
// added as a saved connection; an ACL is added through the ACLs folder's + button and its quick picks, another
// removed from its row's context menu. Screenshots: test-results/screenshots/transactions-*.png.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import type { Frame, Page } from 'playwright-core';
import {
  answerQuickInput,
  commandTitles,
  contextMenu,
  dismissNotifications,
  E2EContext,
  expandRow,
  openViewContainer,
  rowAction,
  rowDescription,
  runCommand,
  setSidebarWidth,
  treeRowByLabel,
  treeText,
  waitFor,
  waitForWorkbench,
} from './workbench';

const TOPIC = 'payments';

async function panelFrame(page: Page, timeoutMs = 30_000): Promise<Frame> {
  return waitFor(
    "the tail panel's page",
    async () => {
      for (const f of page.frames()) {
        if ((await f.locator('body[data-panel="tail"] main[aria-busy="false"]').count().catch(() => 0)) > 0) return f;
      }
      return undefined;
    },
    timeoutMs,
  );
}

async function startCluster(ctx: E2EContext, args: string[]): Promise<{ child: ChildProcess; dir: string; bootstrap: string }> {
  const dir = mkdtempSync(join(ctx.tmpDir, 'acl-cluster-'));
  const child = spawn(process.execPath, [join(ctx.repoRoot, 'dist', 'cli.js'), 'start', '--dir', dir, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const bootstrap = await waitFor('the second cluster to print its bootstrap', () => /^bootstrap: (\S+)$/m.exec(out)?.[1], 60_000);
  return { child, dir, bootstrap };
}

function stopCluster(c: { child: ChildProcess; dir: string } | undefined): void {
  if (!c?.child.pid) return;
  try {
    process.kill(-c.child.pid, 'SIGKILL');
  } catch {
    // gone
  }
  rmSync(c.dir, { recursive: true, force: true, maxRetries: 3 });
}

export async function run(ctx: E2EContext): Promise<void> {
  const { page, log } = ctx;
  const pkg = JSON.parse(readFileSync(join(ctx.repoRoot, 'package.json'), 'utf8'));
  const titles = commandTitles(pkg);
  const title = (id: string) => titles.get(id) ?? assert.fail(`no command ${id}`);
  const view = 'Clusters';
  const row = (label: string) => treeRowByLabel(page, view, label);
  const producers: Producer[] = [];
  let second: { child: ChildProcess; dir: string; bootstrap: string } | undefined;
  try {
    await waitForWorkbench(page);
    await openViewContainer(page, 'MiniKafka');
    await setSidebarWidth(page, 720);
    await runCommand(page, title('minikafka.startCluster'));
    await waitFor('the running cluster to expand', async () => {
      await expandRow(row('Mini-cluster'));
      return (await row('Brokers').count()) > 0;
    }, 90_000, 1000);
    await waitFor('three brokers up', async () => (await treeText(page, view)).filter((l) => /^\s*Broker \d+\s.*\bup\b/.test(l)).length === 3, 90_000);
    const bootstrap = (await rowDescription(row('Mini-cluster'))).split(',').map((s) => s.trim());

    await runCommand(page, title('minikafka.createTopic'));
    await answerQuickInput(page, TOPIC, /\(1\/4\)/);
    await answerQuickInput(page, '1', /\(2\/4\)/);
    await answerQuickInput(page, '3', /\(3\/4\)/);
    await answerQuickInput(page, '', /\(4\/4\)/);

    // A transactional producer: committed (offsets 0-1, marker 2), aborted (3, marker 4), open (5-6).
    const kafka = new Kafka({ clientId: 'e2e-txn', brokers: bootstrap, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'payments-writer', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 300_000 });
    producers.push(producer);
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({ topic: TOPIC, messages: [{ key: 'order-1', value: '{"amount": 12.5}' }, { key: 'order-2', value: '{"amount": 3}' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic: TOPIC, messages: [{ key: 'order-3', value: '{"amount": 99}' }] });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic: TOPIC, messages: [{ key: 'order-4', value: '{"amount": 7}' }, { key: 'order-5', value: '{"amount": 1}' }] });

    // The tree: the open transaction, P0 held back, its reason in the tooltip.
    await expandRow(row('Transactions'));
    await waitFor('the open transaction', async () => (await row('payments-writer').count()) > 0, 30_000);
    await expandRow(row('Topics'));
    await expandRow(row(TOPIC));
    await waitFor('P0 with LSO 5 < HW 7', async () => /LSO 5 < HW 7/.test(await rowDescription(row('P0')).catch(() => '')), 30_000);
    assert.match(await rowDescription(row('payments-writer')), /^Ongoing · pid \d+ epoch \d+ · .* · payments-0$/);
    await expandRow(row('ACLs'));
    await waitFor('the ACLs placeholder', async () => (await row('ACLs are off: the cluster has no authorizer').count()) > 0, 20_000);
    await dismissNotifications(page);
    await page.mouse.move(1200, 700);
    await page.waitForTimeout(300);
    await ctx.screenshot('tree-open-transaction');
    await row('P0').hover();
    await waitFor('the P0 tooltip', async () => /open transaction of payments-writer/.test((await page.locator('.monaco-hover, .custom-hover').allInnerTexts().catch(() => [])).join('\n')), 10_000).catch(() =>
      log('no hover tooltip appeared for P0 (the screenshot shows the row only)'),
    );
    await page.waitForTimeout(400);
    log('tree with the open transaction:\n' + (await treeText(page, view)).join('\n'));
    await ctx.screenshot('tree-lso-tooltip');
    await page.mouse.move(1200, 700);

    // Log dirs under broker 1.
    await expandRow(row('Broker 1'));
    const dirRow = page.locator('.sidebar .monaco-list-row', { hasText: '/broker-1' });
    await waitFor('broker 1\'s log dir', async () => (await dirRow.count()) > 0, 20_000);
    await expandRow(dirRow.first());
    await waitFor(`${TOPIC}-0 with its size`, async () => /\d/.test(await rowDescription(row(`${TOPIC}-0`)).catch(() => '')), 20_000);
    // Collapse Topics and Transactions so the log dir fits.
    for (const r of ['Topics', 'Transactions', 'ACLs']) await row(r).locator('.monaco-tl-twistie').click();
    await page.waitForTimeout(500);
    await dismissNotifications(page);
    await ctx.screenshot('tree-log-dirs');
    await row('Broker 1').locator('.monaco-tl-twistie').click();
    await expandRow(row('Topics'));

    // The tail: read_committed (the default) shows markers, no aborted and no open record.
    await contextMenu(page, row(TOPIC), 'Tail Topic');
    let tail = await panelFrame(page);
    await tail.locator('vscode-dropdown[aria-label="Start"]').click();
    await tail.locator('vscode-option', { hasText: 'Earliest' }).click();
    await tail.locator('vscode-button', { hasText: 'Restart' }).click();
    await waitFor('4 rows under read_committed', async () => (await tail.locator('.vt-body .vt-row').count()) === 4, 30_000);
    assert.equal(await tail.locator('.vt-body .vt-row.marker').count(), 2);
    // A narrower side bar, so the panel shows every column.
    await setSidebarWidth(page, 430);
    tail = await panelFrame(page);
    await waitFor('4 rows', async () => (await tail.locator('.vt-body .vt-row').count()) === 4, 15_000);
    await page.waitForTimeout(500);
    await dismissNotifications(page);
    await ctx.screenshot('tail-read-committed');

    // read_uncommitted through the panel's own dropdown.
    await tail.locator('vscode-dropdown[aria-label="Isolation"]').click();
    await tail.locator('vscode-option', { hasText: 'read_uncommitted' }).click();
    await tail.locator('vscode-button', { hasText: 'Restart' }).click();
    await waitFor('7 rows under read_uncommitted', async () => (await tail.locator('.vt-body .vt-row').count()) === 7, 30_000);
    assert.equal(await tail.locator('.vt-body .vt-row.txn-open').count(), 2);
    assert.equal(await tail.locator('.vt-body .vt-row.txn-aborted').count(), 1);
    await page.waitForTimeout(500);
    await ctx.screenshot('tail-read-uncommitted');
    await t3.commit();
    await waitFor('the open rows committed and the marker', async () => (await tail.locator('.vt-body .vt-row').count()) === 8 && (await tail.locator('.vt-body .vt-row.txn-open').count()) === 0, 30_000);
    await page.waitForTimeout(300);
    await ctx.screenshot('tail-read-uncommitted-settled');
    await setSidebarWidth(page, 720);

    await page.locator('.tabs-container .tab', { hasText: `Tail: ${TOPIC}` }).first().locator('.tab-actions .action-label').first().click();

    // A second cluster with an authorizer, where a 1 s transaction stays open past its timeout.
    second = await startCluster(ctx, [
      '--brokers', '1', '--port', '0',
      '--config', 'authorizer.class.name=StandardAuthorizer',
      '--config', 'allow.everyone.if.no.acl.found=true',
      '--config', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=3600000',
    ]);
    const settingsFile = join(ctx.workspaceDir, '.vscode', 'settings.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8'));
    writeFileSync(settingsFile, JSON.stringify({ ...settings, 'minikafka.connections': [{ id: 'conn-secured', name: 'Secured', bootstrapServers: second.bootstrap }] }, null, 2));
    const k2 = new Kafka({ clientId: 'e2e-hanging', brokers: [second.bootstrap], logLevel: logLevel.NOTHING });
    const a2 = k2.admin();
    await a2.connect();
    await a2.createTopics({ topics: [{ topic: 'ledger', numPartitions: 1 }], waitForLeaders: true });
    await a2.disconnect();
    const stuck = k2.producer({ transactionalId: 'ledger-batch', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 1000 });
    producers.push(stuck);
    await stuck.connect();
    const t4 = await stuck.transaction();
    await t4.send({ topic: 'ledger', messages: [{ value: 'entry' }] });
    await page.waitForTimeout(1500);

    await row('Mini-cluster').locator('.monaco-tl-twistie').click();
    await waitFor('the Secured connection', async () => (await row('Secured').count()) > 0, 30_000);
    await expandRow(row('Secured'));
    await expandRow(row('Transactions'));
    await waitFor('the hanging transaction', async () => /^HANGING/.test(await rowDescription(row('ledger-batch')).catch(() => '')), 30_000);
    await expandRow(row('ACLs'));
    await waitFor('an empty ACLs folder', async () => (await row('No ACLs — add one').count()) > 0, 20_000);
    // Add ACL from the folder's + button: resource type, pattern, name, principal, host, operation, permission.
    await rowAction(row('ACLs'), 'Add ACL');
    await answerQuickInput(page, 'TOPIC', /\(1\/6\)/);
    await answerQuickInput(page, 'LITERAL', /\(2\/6\)/);
    // Not 'ledger': a binding on it would end allow.everyone.if.no.acl.found for it, and User:ANONYMOUS (this
    // connection) would no longer see it.
    await answerQuickInput(page, 'audit', /\(3\/6\)/);
    await answerQuickInput(page, 'User:alice', /\(4\/6\)/);
    await answerQuickInput(page, '*', /\(5\/6\)/);
    await answerQuickInput(page, 'READ', /\(6\/6\)/);
    await answerQuickInput(page, 'ALLOW');
    await waitFor('the new ACL row', async () => (await row('User:alice ALLOW READ').count()) > 0, 20_000);
    // And one more to remove from its context menu.
    await runCommand(page, title('minikafka.addAcl'));
    await answerQuickInput(page, 'Secured');
    await answerQuickInput(page, 'GROUP', /\(1\/6\)/);
    await answerQuickInput(page, 'PREFIXED', /\(2\/6\)/);
    await answerQuickInput(page, 'ledger-', /\(3\/6\)/);
    await answerQuickInput(page, 'User:bob', /\(4\/6\)/);
    await answerQuickInput(page, '10.0.0.7', /\(5\/6\)/);
    await answerQuickInput(page, 'READ', /\(6\/6\)/);
    await answerQuickInput(page, 'DENY');
    await waitFor('the DENY row', async () => (await row('User:bob DENY READ').count()) > 0, 20_000);
    await expandRow(row('Topics'));
    await expandRow(row('ledger'));
    await waitFor('ledger P0 held back', async () => /LSO 0 < HW 1/.test(await rowDescription(row('P0')).catch(() => '')), 20_000);
    await page.mouse.move(1200, 700);
    await dismissNotifications(page);
    log('tree of the secured cluster:\n' + (await treeText(page, view)).join('\n'));
    await ctx.screenshot('tree-acls-hanging');
    await contextMenu(page, row('User:bob DENY READ'), 'Remove ACL');
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Remove' }).first().click();
    await waitFor('the DENY row gone', async () => (await row('User:bob DENY READ').count()) === 0 && (await row('User:alice ALLOW READ').count()) > 0, 20_000);
  } finally {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    stopCluster(second);
  }
}
