#!/usr/bin/env node
// Runs the test tiers with Node's own test runner after compiling TypeScript to out/.
// Usage: node scripts/test.mjs [tier...]   tiers: unit, clients, fuzz, cluster (node --test), then vscode (the
// extension's integration suites inside a real VS Code) and e2e (the workbench driven in Chromium), both through
// scripts/run-vscode-tests.mjs (default: all of them).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'clients', 'fuzz', 'cluster', 'vscode', 'e2e'];
const VSCODE_TIERS = { vscode: 'integration', e2e: 'e2e' };
const nodeTiers = tiers.filter((t) => !(t in VSCODE_TIERS));
const vscodeTiers = tiers.filter((t) => t in VSCODE_TIERS);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

rmSync(join(root, 'out'), { recursive: true, force: true });
// Tests that start the CLI as a real process need the bundles; tsc emits the test code to out/.
run(process.execPath, ['esbuild.mjs']);
if (nodeTiers.length) run('npx', ['tsc', '-p', 'tsconfig.json']);
// The extension host side and the suites that run inside VS Code or drive it (test/integration, test/e2e).
if (vscodeTiers.length) run('npx', ['tsc', '-p', 'tsconfig.extension.json']);
if (nodeTiers.length) {
  const files = nodeTiers.flatMap((t) => findTests(join(root, 'out', 'test', t)));
  if (files.length === 0) {
    console.error('no test files found for tiers: ' + nodeTiers.join(', '));
    process.exit(1);
  }
  // Two cores: run test files one at a time so timing-sensitive cluster tests are not starved.
  run(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', ...files]);
}
// The runner installs VS Code (code-server) on first use, bounds every wait and kills what it started.
for (const t of vscodeTiers) run(process.execPath, ['scripts/run-vscode-tests.mjs', VSCODE_TIERS[t]]);
