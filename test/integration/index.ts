// The test entry the extension host loads (extensionTestsPath = out/test/integration/index.js), the same for the
// VS Code server in a browser (scripts/run-vscode-tests.mjs integration) and for a desktop VS Code through
// @vscode/test-electron (--desktop). It runs out/test/integration/**/*.test.js with Mocha (bdd UI): all of them, or
// those MINIKAFKA_TEST_FILES names (comma-separated, e.g. "activation,tree" or "activation.test.js").
//
// Reporter output goes through console.log, which the extension host forwards to the harness (the browser page's
// codeAutomationLog, or the desktop process's stdout). The promise resolves when every test passed; a rejection
// makes VS Code exit with code 1.
import Mocha from 'mocha';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    // Generous: the embedded cluster starts real broker processes on a shared 2-core machine.
    timeout: Number(process.env.MINIKAFKA_MOCHA_TIMEOUT_MS ?? 120_000),
    color: false,
    reporter: 'spec',
    grep: process.env.MINIKAFKA_MOCHA_GREP,
  });
  // The harness runs each file in a fresh VS Code (its own extension host and embedded cluster) by naming it here;
  // unset runs them all in this one.
  const only = (process.env.MINIKAFKA_TEST_FILES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const files = findTests(__dirname).filter((f) => only.length === 0 || only.some((o) => f.endsWith(`/${o}`) || f.endsWith(`/${o}.test.js`)));
  if (files.length === 0) return Promise.reject(new Error(`no integration test files match ${only.join(',')} in ${__dirname}`));
  for (const f of files) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
    } catch (e) {
      reject(e);
    }
  });
}
