// The extension is installed, activates, and everything package.json declares exists at run time: every command
// in contributes.commands is registered, and every view in contributes.views can be shown.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'minikafka.minikafka';

interface Contributes {
  commands?: { command: string; title: string }[];
  views?: Record<string, { id: string; name: string }[]>;
  viewsContainers?: Record<string, { id: string; title: string }[]>;
}

describe('activation', () => {
  let ext: vscode.Extension<unknown>;
  let contributes: Contributes;

  before(() => {
    const found = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(found, `extension ${EXTENSION_ID} is not installed`);
    ext = found;
    contributes = (ext.packageJSON as { contributes?: Contributes }).contributes ?? {};
  });

  it('activates', async () => {
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command declared in contributes.commands', async () => {
    await ext.activate();
    const declared = (contributes.commands ?? []).map((c) => c.command);
    assert.ok(declared.length > 0, 'package.json declares no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declared.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `declared but not registered: ${missing.join(', ')}`);
  });

  it('contributes every view in contributes.views, each of which can be shown', async () => {
    await ext.activate();
    const views = Object.values(contributes.views ?? {}).flat();
    assert.ok(views.length > 0, 'package.json declares no views');
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const view of views) {
      // VS Code registers "<viewId>.focus" for every contributed view; running it opens the container and
      // resolves the view (a tree view's provider is then asked for its root children).
      const focus = `${view.id}.focus`;
      assert.ok(registered.has(focus), `view ${view.id} (${view.name}) does not exist in the workbench`);
      await vscode.commands.executeCommand(focus);
    }
  });
});
