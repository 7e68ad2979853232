// Driving the VS Code workbench (code-server in headless Chromium) the way a person does: activity bar, command
// palette, tree rows, context menus, quick inputs, notifications. Used by every test/e2e/*.e2e.ts.
//
// An e2e file exports `run(ctx: E2EContext)`; scripts/run-vscode-tests.mjs e2e starts a fresh code-server (temp user
// data dir and workspace, the extension installed as <extensions>/minikafka.minikafka-<version>), opens the page, calls
// run(ctx), and on failure saves a screenshot (test-results/screenshots/<file>-FAILED.png) and the server log.
import type { Locator, Page } from 'playwright-core';

export interface E2EContext {
  /** The workbench page, already navigated to the temp workspace. */
  page: Page;
  url: string;
  port: number;
  /** The temp workspace folder (its .vscode/settings.json sets minikafka.embedded.basePort 0 and dataDir). */
  workspaceDir: string;
  /** The embedded cluster's data dir (MINIKAFKA_EMBEDDED_DIR): <dataDir>/control.json names its bootstrap. */
  dataDir: string;
  tmpDir: string;
  repoRoot: string;
  log(...args: unknown[]): void;
  /** Saves test-results/screenshots/<file>-<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
}

const T = 30_000;

/** Polls fn until it returns a truthy value; throws `what` with the last error after timeoutMs. */
export async function waitFor<V>(what: string, fn: () => Promise<V | undefined | false | null> | V | undefined | false | null, timeoutMs = T, everyMs = 250): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the workbench has rendered and the extension host is connected. */
export async function waitForWorkbench(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.activitybar').waitFor({ state: 'visible', timeout: timeoutMs });
  // The status bar shows the remote host once the workbench is wired to the server.
  await page.locator('.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  await dismissNotifications(page);
}

/** Clears every notification toast (they cover the lower right of the screenshots). */
export async function dismissNotifications(page: Page): Promise<void> {
  const toasts = page.locator('.notifications-toasts .notification-toast');
  for (let i = 0; i < 10 && (await toasts.count()) > 0; i++) {
    const toast = toasts.first();
    await toast.hover({ timeout: 2000 }).catch(() => {});
    const clear = toast.locator('.codicon-notifications-clear, .codicon-close').first();
    await clear.click({ timeout: 2000, force: true }).catch(() => {});
    await page.waitForTimeout(150);
  }
}

/** The activity-bar entry of a view container, by its title. */
export function activityBarItem(page: Page, containerTitle: string): Locator {
  return page.locator(`.activitybar a[aria-label^="${containerTitle}"]`).first();
}

/** Shows a view container in the side bar (a click toggles it, so only click when it is not shown already). */
export async function openViewContainer(page: Page, containerTitle: string): Promise<void> {
  const item = activityBarItem(page, containerTitle);
  await item.waitFor({ state: 'visible', timeout: T });
  const li = page.locator('.activitybar .action-item', { has: page.locator(`a[aria-label^="${containerTitle}"]`) }).first();
  const checked = (await li.getAttribute('class'))?.includes('checked') || (await item.getAttribute('aria-checked')) === 'true';
  if (!checked) await item.click();
  await page.locator('.sidebar').waitFor({ state: 'visible', timeout: T });
}

/** Drags the sash between the side bar and the editor so the side bar is `width` pixels wide (room for descriptions). */
export async function setSidebarWidth(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) return;
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(x - 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 8 });
  await page.mouse.up();
}

/** Runs a command from the palette by its full title ("MiniKafka: Start Mini-Cluster"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw new Error(`the command palette did not open: ${(e as Error).message}`);
      // Focus may sit in an iframe (webview); click a neutral spot of the workbench first.
      await page.locator('.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => {});
    }
  }
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: T });
  await row.click();
  // The palette closes, or (a command that asks something) the same widget shows the command's first question.
  await waitFor(`the palette to run "${title}"`, async () => !(await input.isVisible()) || !(await input.inputValue()).startsWith('>'), 10_000, 100).catch(() => {});
}

/** Answers an open quick input (input box or quick pick): types the text and presses Enter. */
export async function answerQuickInput(page: Page, text: string, expectTitle?: RegExp): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: T });
  if (expectTitle) await waitFor(`a quick input matching ${expectTitle}`, async () => expectTitle.test(await widget.innerText()), T);
  const input = widget.locator('input.input');
  await input.fill(text);
  await page.keyboard.press('Enter');
}

/** Picks the quick-pick row whose text contains `label`. */
export async function pickQuickItem(page: Page, label: string | RegExp): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: T });
  await row.click();
}

/** The side bar view pane with this title (e.g. "Clusters"). */
export function viewPane(page: Page, viewTitle: string): Locator {
  return page.locator('.sidebar .pane', { has: page.locator(`.pane-header[aria-label^="${viewTitle}"]`) }).first();
}

/** Tree rows of a view; a row's aria-label holds its label and description. */
export function treeRows(page: Page, viewTitle: string): Locator {
  return viewPane(page, viewTitle).locator('.monaco-list-row');
}

export function treeRow(page: Page, viewTitle: string, text: string | RegExp): Locator {
  return treeRows(page, viewTitle).filter({ hasText: text }).first();
}

/** The row whose label is exactly `label` (substring matches of hasText would also hit descriptions). */
export function treeRowByLabel(page: Page, viewTitle: string, label: string): Locator {
  const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  return treeRows(page, viewTitle).filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
}

/** The description text of a row ("" if none). */
export async function rowDescription(row: Locator): Promise<string> {
  return row.evaluate((r) => (r.querySelector('.label-description')?.textContent ?? '').trim());
}

/** Text of every rendered row of a view, in order, indented by depth: "label  description". */
export async function treeText(page: Page, viewTitle: string): Promise<string[]> {
  return treeRows(page, viewTitle).evaluateAll((rows) =>
    rows.map((r) => {
      const level = Number(r.getAttribute('aria-level') ?? '1');
      const label = (r.querySelector('.label-name')?.textContent ?? r.textContent ?? '').trim();
      const desc = (r.querySelector('.label-description')?.textContent ?? '').trim();
      return `${'  '.repeat(Math.max(0, level - 1))}${label}${desc ? `  ${desc}` : ''}`;
    }),
  );
}

/**
 * Expands a collapsed row (no-op if already expanded or not expandable). Retries: a refresh of the tree may re-render
 * the row between finding it and the click, and the click then lands on a row that is gone.
 */
export async function expandRow(row: Locator, timeoutMs = 20_000): Promise<void> {
  await row.waitFor({ state: 'visible', timeout: T }).catch((e: Error) => {
    throw new Error(`no visible row ${row}: ${e.message.split('\n')[0]}`);
  });
  await waitFor(`${row} to expand`, async () => {
    const state = await row.getAttribute('aria-expanded');
    if (state !== 'false') return true;
    await row.locator('.monaco-tl-twistie').click({ timeout: 5000 });
    await waitFor('aria-expanded', async () => (await row.getAttribute('aria-expanded')) !== 'false', 2000, 100).catch(() => {});
    return (await row.getAttribute('aria-expanded')) !== 'false';
  }, timeoutMs, 300);
}

/**
 * Waits until the view holding `row` shows no loading bar and its rows have not been re-rendered for `quietMs`
 * (bounded by `timeoutMs`: a view that never settles is the test's next assertion to report).
 */
export async function waitForQuietView(page: Page, row: Locator, quietMs = 400, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await row.evaluate(
    (el, [quiet, limit]) =>
      new Promise<void>((resolve) => {
        // Runs in the page; this file is compiled without the DOM library, hence the window's constructor by hand.
        const list = el.closest('.monaco-list') ?? el.ownerDocument.body;
        type Observer = { observe(target: unknown, options: object): void; disconnect(): void };
        const Mutations = (el.ownerDocument.defaultView as unknown as { MutationObserver: new (cb: () => void) => Observer }).MutationObserver;
        const done = () => {
          observer.disconnect();
          clearTimeout(timer);
          clearTimeout(hard);
          resolve();
        };
        let timer = setTimeout(done, quiet);
        const hard = setTimeout(done, limit);
        const observer = new Mutations(() => {
          clearTimeout(timer);
          timer = setTimeout(done, quiet);
        });
        observer.observe(list, { subtree: true, childList: true, characterData: true });
      }),
    [quietMs, timeoutMs] as const,
  );
  const loading = page.locator('.sidebar .monaco-progress-container.active');
  while ((await loading.count()) > 0 && Date.now() < deadline) await page.waitForTimeout(100);
}

/** Right-clicks a row and picks a context-menu entry by its title. */
export async function contextMenu(page: Page, row: Locator, item: string | RegExp): Promise<void> {
  const entry = page.locator('.context-view .monaco-menu .action-item', { hasText: item }).first();
  // While a refresh of the tree is under way, VS Code's extension host has dropped the row's element, and a menu
  // command then runs without its target (a CI run got the producer's "Pick a topic" instead of the topic's panel).
  // A person waits until the tree stops moving; so does this.
  await waitForQuietView(page, row);
  // VS Code's menu ignores a click that reaches an entry the pointer has not entered yet: a click at once after
  // the menu appears (Chromium 156.0.8078.114 renders it fast enough for that) left the menu open and ran nothing.
  // So: hover first, click, and check that the menu closed; a click that was ignored is repeated.
  await waitFor(`the context-menu entry "${item}" to run`, async () => {
    if (!(await entry.isVisible())) {
      await row.click({ button: 'right' });
      await entry.waitFor({ state: 'visible', timeout: 10_000 });
    }
    await entry.hover();
    await entry.click();
    return waitFor('the context menu to close', async () => !(await entry.isVisible()), 1500, 100).then(() => true, () => false);
  }, 20_000, 0);
}

/** Clicks an inline action (icon button shown on hover) of a tree row by its title. */
export async function rowAction(row: Locator, title: string): Promise<void> {
  await row.hover();
  await row.locator(`.actions a[aria-label^="${title}"]`).first().click();
}

/** The text of the visible notification toasts. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** The commands package.json declares: id -> palette title ("Category: Title"). */
export function commandTitles(pkg: { contributes?: { commands?: { command: string; title: string; category?: string }[] } }): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of pkg.contributes?.commands ?? []) m.set(c.command, c.category ? `${c.category}: ${c.title}` : c.title);
  return m;
}
