// package.json's contributes agrees with the code: every command id the extension registers is declared (and the
// other way round), menus name declared commands, and the settings' keys and defaults match model/settings.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { CLUSTERS_VIEW_ID, Commands, PanelCommands, VIEW_CONTAINER_ID } from '../../../src/extension/constants';
import { CONFIG_DEFAULTS } from '../../../src/extension/model/settings';

/** The project root: the nearest directory above the compiled test that holds our package.json (else the cwd). */
function projectRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'minikafka') return dir;
    } catch {
      /* keep looking */
    }
  }
  return process.cwd();
}
const root = projectRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

describe('package.json contributes', () => {
  it('declares every command of constants.ts, with the MiniKafka category', () => {
    const declared = new Map<string, { category?: string }>(contributes.commands.map((c: { command: string; category?: string }) => [c.command, c]));
    for (const id of Object.values(Commands)) {
      assert.ok(declared.has(id), `${id} is not declared`);
      assert.equal(declared.get(id)!.category, 'MiniKafka', id);
    }
    const known = new Set<string>([...Object.values(Commands), ...Object.values(PanelCommands)]);
    for (const id of declared.keys()) assert.ok(known.has(id), `${id} is declared but not in constants.ts`);
  });

  it('menus only name declared commands and our view', () => {
    const declared = new Set(contributes.commands.map((c: { command: string }) => c.command));
    for (const [menu, items] of Object.entries(contributes.menus as Record<string, Array<{ command: string; when?: string }>>)) {
      for (const item of items) {
        assert.ok(declared.has(item.command), `${menu} names undeclared ${item.command}`);
        if (menu.startsWith('view/')) assert.match(item.when ?? '', new RegExp(`view == ${CLUSTERS_VIEW_ID.replace('.', '\\.')}`), `${menu} ${item.command}`);
      }
    }
  });

  it('has the view container, the view and the welcome content', () => {
    assert.equal(contributes.viewsContainers.activitybar[0].id, VIEW_CONTAINER_ID);
    assert.equal(contributes.views[VIEW_CONTAINER_ID][0].id, CLUSTERS_VIEW_ID);
    const welcome = contributes.viewsWelcome.find((w: { view: string }) => w.view === CLUSTERS_VIEW_ID);
    assert.match(welcome.contents, /command:minikafka\.startCluster/);
    assert.match(welcome.contents, /command:minikafka\.addConnection/);
    assert.ok(pkg.activationEvents.includes(`onView:${CLUSTERS_VIEW_ID}`));
  });

  it('declares exactly the settings of model/settings.ts with the same defaults', () => {
    const props = contributes.configuration.properties as Record<string, { default: unknown }>;
    const declared = Object.keys(props).map((k) => k.replace(/^minikafka\./, ''));
    assert.deepEqual(declared.sort(), Object.keys(CONFIG_DEFAULTS).sort());
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS)) assert.deepEqual(props[`minikafka.${key}`].default, value, key);
  });
});
