// The panels as a person uses them, in code-server driven by headless Chromium: start the mini-cluster from the
// palette, right-click a topic → Produce Messages…, fill the form (key, JSON value, a header), click Send, click
// "Open tail at offset …", see the row in the tail table and expand it; open Watch Consumer Group from the
// palette, add a member and see its lag reach zero. Screenshots of every panel in a dark and a light theme go to
// test-results/screenshots/panels-*.png (the good ones are copied by hand to docs/screenshots/).
//
// A webview is two iframes deep; each panel's page marks its <body> with data-panel="producer|tail|group", which is
// how the frames are found here.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { ClusterAdmin } from '../../src/client/admin';
import {
  contextMenu,
  dismissNotifications,
  E2EContext,
  expandRow,
  openViewContainer,
  pickQuickItem,
  answerQuickInput,
  runCommand,
  treeRow,
  waitFor,
  waitForWorkbench,
} from './workbench';

const TOPIC = 'orders';
const GROUP = 'billing';
const VALUE = '{"id": 42, "item": "<b>tea</b>", "qty": 2}';

/** The frame of a visible panel page. */
async function panelFrame(page: Page, panel: 'producer' | 'tail' | 'group', timeoutMs = 30_000): Promise<Frame> {
  return waitFor(
    `the ${panel} panel's page`,
    async () => {
      for (const f of page.frames()) {
        const found = await f
          .locator(`body[data-panel="${panel}"] main[aria-busy="false"]`)
          .count()
          .catch(() => 0);
        if (found > 0) return f;
      }
      return undefined;
    },
    timeoutMs,
  );
}

function updateSettings(ctx: E2EContext, patch: Record<string, unknown>): void {
  const file = join(ctx.workspaceDir, '.vscode', 'settings.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...settings, ...patch }, null, 2));
}

async function applyTheme(ctx: E2EContext, theme: string, kind: 'vs' | 'vs-dark' | 'hc-black' | 'hc-light'): Promise<void> {
  updateSettings(ctx, { 'workbench.colorTheme': theme });
  await waitFor(`the ${theme} theme`, async () => (await ctx.page.locator('.monaco-workbench').first().getAttribute('class'))?.split(/\s+/).includes(kind), 20_000);
  await ctx.page.waitForTimeout(800);
}

/** Brings a panel's editor tab to the front (its page is rebuilt: no retained context). */
async function showTab(page: Page, title: string): Promise<void> {
  await page.locator('.tabs-container .tab', { hasText: title }).first().click();
}

/**
 * A screenshot of one panel with its editor group maximized (the other group's pages are hidden meanwhile and
 * rebuilt after). `ready` waits for what the picture should show once the page is rebuilt.
 */
async function shotMaximized(ctx: E2EContext, tab: string, panel: 'producer' | 'tail' | 'group', name: string, ready: (f: Frame) => Promise<unknown>): Promise<void> {
  const { page } = ctx;
  const tabEl = page.locator('.tabs-container .tab', { hasText: tab }).first();
  await tabEl.click();
  await panelFrame(page, panel);
  // A double click on a tab maximizes its group (workbench.editor.doubleClickTabToToggleEditorGroupSizes).
  await tabEl.dblclick();
  try {
    const frame = await panelFrame(page, panel);
    await ready(frame);
    await page.waitForTimeout(600);
    await dismissNotifications(page);
    await ctx.screenshot(name);
  } finally {
    await tabEl.dblclick();
  }
}

const producerReady = (f: Frame) => f.locator('.results [role=status]').waitFor({ state: 'visible', timeout: 15_000 });
const tailReady = (f: Frame) => f.locator('.vt-detail pre.json').waitFor({ state: 'visible', timeout: 15_000 });
const groupReady = (f: Frame) => f.locator('.chart polyline').first().waitFor({ state: 'attached', timeout: 15_000 });

async function bootstrapOf(dataDir: string): Promise<string[] | undefined> {
  try {
    const control = JSON.parse(readFileSync(join(dataDir, 'control.json'), 'utf8')) as { bootstrap?: string };
    return control.bootstrap ? control.bootstrap.split(',') : undefined;
  } catch {
    return undefined;
  }
}

async function withAdmin<T>(bootstrap: string[], fn: (a: ClusterAdmin) => Promise<T>): Promise<T> {
  const admin = new ClusterAdmin({ bootstrapServers: bootstrap });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function run(ctx: E2EContext): Promise<void> {
  const { page, log } = ctx;
  await waitForWorkbench(page);
  updateSettings(ctx, { 'workbench.editor.doubleClickTabToToggleEditorGroupSizes': 'maximize' });
  await applyTheme(ctx, 'Default Dark Modern', 'vs-dark');

  // The mini-cluster, started as a person would; a topic with three partitions.
  await runCommand(page, 'MiniKafka: Start Mini-Cluster');
  const bootstrap = await waitFor('the mini-cluster to run', () => bootstrapOf(ctx.dataDir), 120_000, 500);
  log(`cluster at ${bootstrap.join(',')}`);
  await withAdmin(bootstrap, async (a) => {
    await a.createTopic({ name: TOPIC, partitions: 3, replicationFactor: 3 });
    await a.resetGroupOffsets(GROUP, TOPIC, 'earliest');
  });
  await dismissNotifications(page);

  // Explorer: cluster → Topics → orders → right click → Produce Messages…
  await openViewContainer(page, 'MiniKafka');
  await runCommand(page, 'MiniKafka: Refresh');
  const topics = treeRow(page, 'Clusters', /^Topics/);
  await expandRow(topics);
  const topicRow = treeRow(page, 'Clusters', TOPIC);
  await topicRow.waitFor({ state: 'visible', timeout: 30_000 });
  await contextMenu(page, topicRow, 'Produce Messages…');

  const producer = await panelFrame(page, 'producer');
  await producer.locator('#key input').fill('order-42');
  await producer.locator('vscode-dropdown[aria-label="Value format"]').click();
  await producer.locator('vscode-option', { hasText: 'JSON' }).click();
  await producer.locator('#value textarea').fill(VALUE);
  await producer.locator('vscode-button', { hasText: 'Add header' }).click();
  await producer.locator('.header-row vscode-text-field').nth(0).locator('input').fill('source');
  await producer.locator('.header-row vscode-text-field').nth(1).locator('input').fill('e2e');
  await producer.locator('#send').click();
  const status = producer.locator('.results [role=status]');
  await waitFor('the delivery report', async () => /Sent to partition \d+ at offset \d+/.test(await status.innerText()), 30_000);
  const sent = await status.innerText();
  log(`producer: ${sent}`);
  // Ten more records from a template, so the tail and the group have something to show.
  await producer.locator('#key input').fill('order-{{i}}');
  await producer.locator('#value textarea').fill('{"id": {{i}}, "at": {{timestamp}}, "ref": "{{uuid}}"}');
  await producer.locator('#count input').fill('10');
  await producer.locator('#send').click();
  await waitFor('the template run', async () => /10 of 10 sent/.test(await status.innerText()), 30_000);
  // Back to the single record, for the screenshot and the tail.
  await producer.locator('#key input').fill('order-42');
  await producer.locator('#value textarea').fill(VALUE);
  await producer.locator('#count input').fill('1');
  await producer.locator('#send').click();
  await waitFor('the second delivery report', async () => /Sent to partition \d+ at offset \d+/.test(await status.innerText()), 30_000);
  await runCommand(page, 'View: Close Primary Side Bar');
  await dismissNotifications(page);

  // "Open tail at offset N" opens the tail beside, positioned at the record just produced.
  await producer.locator('vscode-button.open-tail').click();
  const tail = await panelFrame(page, 'tail');
  const row = tail.locator('.vt-body .vt-row', { hasText: 'order-42' }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await row.click();
  const detail = tail.locator('.vt-detail pre.json');
  await detail.waitFor({ state: 'visible', timeout: 10_000 });
  const pretty = await detail.innerText();
  if (!pretty.includes('\n  "item": "<b>tea</b>"')) throw new Error(`expected pretty JSON in the expanded row, got ${pretty}`);
  if ((await tail.locator('b').count()) !== 0) throw new Error('the value\'s <b> became an element');
  await ctx.screenshot('producer-and-tail-dark');

  // The group panel from the palette: a group id typed in, then a member added in the page.
  await runCommand(page, 'MiniKafka: Watch Consumer Group');
  await pickQuickItem(page, GROUP);
  const group = await panelFrame(page, 'group');
  await waitFor('the group\'s lag', async () => Number((await group.locator('.card', { hasText: 'Total lag' }).locator('.card-value').innerText()).replace(/,/g, '')) === 12, 30_000);
  await page.waitForTimeout(2500); // a few lag samples before the member drains it
  await group.locator('#join').click();
  await waitFor('the lag to fall to zero', async () => (await group.locator('.card', { hasText: 'Total lag' }).locator('.card-value').innerText()).trim() === '0', 60_000);
  await page.waitForTimeout(2500);

  // The tail again, restarted from the earliest offsets of every partition with its own controls.
  await showTab(page, `Tail: ${TOPIC}`);
  const tail2 = await panelFrame(page, 'tail');
  await tail2.locator('vscode-dropdown[aria-label="Start"]').click();
  await tail2.locator('vscode-option', { hasText: 'Earliest' }).click();
  await tail2.locator('vscode-dropdown[aria-label="Partitions"]').click();
  await tail2.locator('vscode-option', { hasText: 'All partitions' }).click();
  await tail2.locator('vscode-button', { hasText: 'Restart' }).click();
  await waitFor('every record in the tail', async () => (await tail2.locator('.vt-body .vt-row').count()) === 12, 30_000);
  await tail2.locator('.vt-body .vt-row', { hasText: 'order-42' }).last().click();
  await tail2.locator('.vt-detail pre.json').waitFor({ state: 'visible', timeout: 10_000 });

  await shotMaximized(ctx, `Group: ${GROUP}`, 'group', 'group-dark', groupReady);
  await shotMaximized(ctx, `Tail: ${TOPIC}`, 'tail', 'tail-dark', tailReady);
  await shotMaximized(ctx, `Produce: ${TOPIC}`, 'producer', 'producer-dark', producerReady);

  // The same three panels in a light theme, then high contrast: the panels use theme variables only.
  await applyTheme(ctx, 'Default Light Modern', 'vs');
  await shotMaximized(ctx, `Produce: ${TOPIC}`, 'producer', 'producer-light', producerReady);
  await shotMaximized(ctx, `Tail: ${TOPIC}`, 'tail', 'tail-light', tailReady);
  await shotMaximized(ctx, `Group: ${GROUP}`, 'group', 'group-light', groupReady);
  await applyTheme(ctx, 'Default High Contrast', 'hc-black');
  await shotMaximized(ctx, `Tail: ${TOPIC}`, 'tail', 'tail-high-contrast', tailReady);
  await shotMaximized(ctx, `Group: ${GROUP}`, 'group', 'group-high-contrast', groupReady);
}
