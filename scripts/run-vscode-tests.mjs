#!/usr/bin/env node
// Runs the extension inside a real VS Code on a machine that cannot download desktop VS Code: the VS Code server
// from the code-server npm package (scripts/vscode-setup.mjs installs it) and Debian's Chromium via playwright-core.
//
//   node scripts/run-vscode-tests.mjs integration   Mocha suites in the extension host (out/test/integration/**/*.test.js
//                                                   through out/test/integration/index.js), the @vscode/test-electron model
//   node scripts/run-vscode-tests.mjs e2e           the full workbench driven like a person would (out/test/e2e/*.e2e.js)
//   node scripts/run-vscode-tests.mjs all           both (default)
//   node scripts/run-vscode-tests.mjs integration --desktop   with VSCODE_EXECUTABLE=<desktop VS Code>: @vscode/test-electron
//                                                   runTests() with the same test entry (where a desktop VS Code exists)
// Options: --vsix <file> (e2e: install this VSIX instead of copying the folder), --grep <re> (e2e: files to run),
//          --keep (keep the temp dirs), and for checking the harness itself with another extension:
//          --extension-path <dir>, --tests-path <file> (integration entry), --e2e-dir <dir> (compiled *.e2e.js)
// Env: MINIKAFKA_VSCODE_VERBOSE=1 (all workbench and browser console output), CHROMIUM_PATH.
//
// What the extension under test sees (the extension reads these; tests may rely on them):
//   MINIKAFKA_TEST=1            running under this harness: no prompts that would block, no default ports 9092-9094
//   MINIKAFKA_TEST_DIR=<dir>    a fresh temp dir per run for the embedded cluster's data (.minikafka would be in the repo)
//   MINIKAFKA_EMBEDDED_DIR=<dir> the same dir, under the name src/extension/clusters/embeddedHandle.ts reads
//   the workspace folder is a fresh temp dir whose .vscode/settings.json sets minikafka.* settings
//   (see workspaceSettings() below): minikafka.embedded.basePort = 0 (free ports), embedded.dataDir = the temp dir.
//
// Every wait is bounded: a hard timeout (MINIKAFKA_VSCODE_TIMEOUT_S, default 480 s per mode) ends the run with a message
// saying what was running. Every process started here runs in its own process group and is killed on every exit path.
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { setup, isInstalled, serverMain, codeServerBin, chromiumPath, checkPrerequisites } from './vscode-setup.mjs';
import { freePort, startGroup, waitForHttp, cleanupAll, onCleanup, killProcessesMentioning } from './lib/processes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const mode = argv.find((a) => ['integration', 'e2e', 'all'].includes(a)) ?? 'all';
const desktop = argv.includes('--desktop');
const keep = argv.includes('--keep') || !!process.env.MINIKAFKA_VSCODE_KEEP;
const verbose = !!process.env.MINIKAFKA_VSCODE_VERBOSE;
// Workbench log lines that say nothing about the extension under test (this machine has no internet, no desktop).
const NOISE = [
  /^Resolv(ing|ed) connection token/, /^Creating a socket/, /^Creation of workbench contribution/,
  /^Updating additional builtin extensions cache/, /^ChatSessionStore:/, /refused to show dialog in tests/,
  /open-vsx\.org/, /^\[Service Worker\]/, /^\s+at /, /ENOTFOUND/, /^Started local extension host/,
  /Long running operations during shutdown are unsupported in the web/, /^Canceled$/,
];
const HARD_TIMEOUT_S = Number(process.env.MINIKAFKA_VSCODE_TIMEOUT_S ?? 480);
const screenshotsDir = join(root, 'test-results', 'screenshots');

/** Settings for the extension under test, written to the temp workspace's .vscode/settings.json. */
function workspaceSettings(dataDir) {
  return {
    // The extension's own settings (package.json contributes.configuration): free ports, a temp data dir.
    'minikafka.embedded.dataDir': dataDir,
    'minikafka.embedded.basePort': 0,
    'minikafka.embedded.brokers': 3,
    // A quiet workbench: no welcome page, tips, trust prompts, update checks or telemetry.
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'git.enabled': false,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
}

let phase = 'starting';
function setPhase(p) {
  phase = p;
  log(`[harness] ${p}`);
}
function log(...a) {
  console.log(...a);
}

let timedOut = false;
const hardTimer = setTimeout(async () => {
  timedOut = true;
  console.error(`\n[harness] HARD TIMEOUT after ${HARD_TIMEOUT_S}s while: ${phase}. Killing VS Code, Chromium and everything they started.`);
  await cleanupAll(1000);
  process.exit(124);
}, HARD_TIMEOUT_S * 1000 * (mode === 'all' ? 2 : 1));

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    console.error(`[harness] ${sig}: cleaning up`);
    await cleanupAll(1000);
    process.exit(130);
  });
}

function makeTemp(label) {
  const dir = mkdtempSync(join(tmpdir(), `minikafka-vscode-${label}-`));
  onCleanup(async () => {
    // The embedded cluster's supervisor runs detached (own process group): find it by this unique dir.
    const n = killProcessesMentioning(dir);
    if (n) log(`[harness] killed ${n} leftover process(es) of ${dir} (the embedded cluster)`);
    if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  if (keep) log(`[harness] keeping ${dir}`);
  return dir;
}

/** A temp workspace with settings, and the env the extension host inherits. */
function prepareWorkspace(tmp) {
  const workspace = join(tmp, 'workspace');
  const dataDir = join(tmp, 'minikafka-data');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings(dataDir), null, 2));
  const env = {
    ...process.env,
    MINIKAFKA_TEST: '1',
    MINIKAFKA_TEST_DIR: dataDir,
    // Read by src/extension/clusters/embeddedHandle.ts: the embedded cluster's data dir wins over the setting.
    MINIKAFKA_EMBEDDED_DIR: dataDir,
    // No proxy surprises, and VS Code must not look for a display.
    DISPLAY: '',
    VSCODE_CLI_TELEMETRY: 'false',
  };
  return { workspace, dataDir, env };
}

async function launchChromium() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  onCleanup(() => browser.close());
  return browser;
}

function requireBuilt(path, hint) {
  if (!existsSync(path)) {
    console.error(`[harness] missing ${path}: ${hint}`);
    process.exit(1);
  }
}

async function ensureVsCode() {
  const missing = checkPrerequisites();
  if (missing.length) {
    console.error('[harness] missing prerequisites:\n  - ' + missing.join('\n  - '));
    process.exit(1);
  }
  if (!isInstalled()) {
    setPhase('installing code-server (node scripts/vscode-setup.mjs)');
    await setup();
  }
}

// ---------------------------------------------------------------------------------------------- integration (Way 1)

async function runIntegration() {
  const extensionPath = resolve(opt('--extension-path') ?? root);
  const testsPath = resolve(opt('--tests-path') ?? join(root, 'out', 'test', 'integration', 'index.js'));
  requireBuilt(testsPath, 'compile the tests first (npx tsc -p tsconfig.extension.json)');
  const pkg = JSON.parse(readFileSync(join(extensionPath, 'package.json'), 'utf8'));
  if (pkg.main) requireBuilt(join(extensionPath, pkg.main), 'build the extension first (node esbuild.mjs)');
  if (desktop) {
    const tmp = makeTemp('int');
    const { workspace, env } = prepareWorkspace(tmp);
    return runDesktop(extensionPath, testsPath, workspace, tmp, env);
  }
  // Each test file gets a fresh VS Code (extension host, workspace, embedded cluster data dir), so suites cannot
  // see each other's topics or groups; --shared runs them all in one VS Code (faster, less isolated).
  const grep = opt('--grep') ? new RegExp(opt('--grep')) : undefined;
  const testDir = dirname(testsPath);
  const files = argv.includes('--shared')
    ? ['']
    : findTestFiles(testDir).filter((f) => !grep || grep.test(f));
  if (files.length === 0) {
    console.error(`[harness] no *.test.js files under ${testDir}`);
    return 1;
  }
  const browser = await launchChromium();
  const failed = [];
  const t0 = Date.now();
  for (const file of files) {
    const code = await runIntegrationOnce(browser, extensionPath, testsPath, file);
    if (code !== 0) failed.push(file || 'all');
  }
  log(`[harness] integration: ${files.length - failed.length}/${files.length} file(s) passed in ${((Date.now() - t0) / 1000).toFixed(0)}s` +
    (failed.length ? `; FAILED: ${failed.join(', ')}` : ''));
  return failed.length ? 1 : 0;
}

function findTestFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    if (name.isDirectory()) out.push(...findTestFiles(join(dir, name.name)).map((f) => `${name.name}/${f}`));
    else if (name.name.endsWith('.test.js')) out.push(name.name);
  }
  return out.sort();
}

/** One VS Code server + page running the test entry on `file` (all files if empty); resolves to the exit code. */
async function runIntegrationOnce(browser, extensionPath, testsPath, file) {
  const label = file ? file.replace(/\.test\.js$/, '') : 'all';
  const tmp = makeTemp(`int-${basename(label)}`);
  const { workspace, env } = prepareWorkspace(tmp);
  if (file) env.MINIKAFKA_TEST_FILES = file;
  const port = await freePort();
  setPhase(`integration ${label}: starting the VS Code server on 127.0.0.1:${port}`);
  const server = startGroup(process.execPath, [
    serverMain, '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms',
    '--user-data-dir', join(tmp, 'ud'), '--server-data-dir', join(tmp, 'sd'), '--extensions-dir', join(tmp, 'ext'),
    '--disable-telemetry',
  ], { env, cwd: workspace, logFile: join(tmp, 'server.log') });
  const context = await browser.newContext();
  try {
    await waitForHttp(`http://127.0.0.1:${port}/version`, { timeoutMs: 60_000, exited: server.exited }).catch((e) => {
      throw new Error(`${e.message}\n--- server log ---\n${server.logTail()}`);
    });
    setPhase(`integration ${label}: running in the extension host`);
    const page = await context.newPage();
    let resolveExit;
    const exitCode = new Promise((r) => (resolveExit = r));
    let finished = false;
    // The workbench's log in test mode (ConsoleLogInAutomationLogger): the extension host's console (Mocha's
    // reporter) and the workbench's own messages, printf-style. Chatter is dropped unless MINIKAFKA_VSCODE_VERBOSE=1.
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      if (!verbose && NOISE.some((re) => re.test(text))) return;
      (type === 'error' ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : text + '\n');
    });
    await page.exposeFunction('codeAutomationExit', (code) => {
      finished = true;
      resolveExit(Number(code));
    });
    page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    if (verbose) page.on('console', (m) => log(`[browser console.${m.type()}] ${m.text()}`));
    page.on('crash', () => {
      log('[harness] the browser page crashed');
      resolveExit(1);
    });
    server.exited.then((c) => {
      if (finished || timedOut) return;
      log(`[harness] the VS Code server exited (${c}) before the tests finished\n${server.logTail()}`);
      resolveExit(1);
    });
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionPath)],
      ['extensionTestsPath', remote(testsPath)],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const t0 = Date.now();
    await page.goto(url, { timeout: 60_000 });
    const code = await exitCode;
    log(`[harness] integration ${label}: exit code ${code} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    if (code !== 0) {
      const tail = server.logTail(3000);
      if (tail.trim()) log(`--- VS Code server log (tail) ---\n${tail}`);
    }
    return code;
  } finally {
    await context.close().catch(() => {});
    await server.stop();
    killProcessesMentioning(tmp);
  }
}

async function runDesktop(extensionPath, testsPath, workspace, tmp, env) {
  const exe = process.env.VSCODE_EXECUTABLE;
  if (!exe || !existsSync(exe)) {
    console.error('[harness] --desktop needs VSCODE_EXECUTABLE=<path to a desktop VS Code>; none can be downloaded here');
    return 1;
  }
  setPhase(`running the tests in desktop VS Code (${exe}) with @vscode/test-electron`);
  const { runTests } = require('@vscode/test-electron');
  const testEnv = { MINIKAFKA_TEST: '1', MINIKAFKA_TEST_DIR: env.MINIKAFKA_TEST_DIR, MINIKAFKA_EMBEDDED_DIR: env.MINIKAFKA_EMBEDDED_DIR };
  Object.assign(process.env, testEnv);
  try {
    return await runTests({
      vscodeExecutablePath: exe,
      extensionDevelopmentPath: extensionPath,
      extensionTestsPath: testsPath,
      launchArgs: [workspace, '--disable-extensions', '--user-data-dir', join(tmp, 'ud'), '--extensions-dir', join(tmp, 'ext')],
      extensionTestsEnv: testEnv,
    });
  } catch (e) {
    console.error(`[harness] desktop VS Code tests failed: ${e?.message ?? e}`);
    return 1;
  }
}

// ------------------------------------------------------------------------------------------------------ e2e (Way 2)

/** Installs the extension into extDir as <publisher>.<name>-<version>, from the folder or from a VSIX. */
async function installExtension(extDir, env, tmp) {
  const from = resolve(opt('--extension-path') ?? root);
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  const vsix = opt('--vsix');
  if (vsix) {
    setPhase(`installing ${vsix}`);
    const inst = startGroup(process.execPath, [codeServerBin, '--extensions-dir', extDir, '--user-data-dir', join(tmp, 'ud-install'), '--install-extension', resolve(vsix)],
      { env, logFile: join(tmp, 'install.log') });
    const code = await Promise.race([inst.exited, new Promise((r) => setTimeout(() => r('timeout'), 120_000))]);
    if (code !== 0) throw new Error(`installing ${vsix} failed (${code}):\n${inst.logTail()}`);
    return;
  }
  requireBuilt(join(from, pkg.main ?? 'dist/extension.js'), 'build the extension first (node esbuild.mjs)');
  const dest = join(extDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  setPhase(`installing the extension folder as ${dest}`);
  mkdirSync(dest, { recursive: true });
  // What the VSIX holds (.vscodeignore): the bundles, media, the manifest, README and LICENSE.
  for (const f of ['package.json', 'dist', 'media', 'README.md', 'LICENSE', 'package.nls.json', pkg.main ?? 'dist']) {
    if (existsSync(join(from, f))) cpSync(join(from, f), join(dest, f), { recursive: true });
  }
}

async function startCodeServer(tmp, extDir, env, workspace) {
  const port = await freePort();
  const ud = join(tmp, 'ud');
  mkdirSync(join(ud, 'User'), { recursive: true });
  // code-server keeps user settings on the server side.
  writeFileSync(join(ud, 'User', 'settings.json'), JSON.stringify(workspaceSettings(join(tmp, 'minikafka-data')), null, 2));
  const server = startGroup(process.execPath, [
    codeServerBin, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', ud, '--extensions-dir', extDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--config', join(tmp, 'code-server.yaml'), '--log', 'warn', workspace,
  ], { env: { ...env, PORT: '', XDG_CONFIG_HOME: join(tmp, 'xdg-config'), XDG_DATA_HOME: join(tmp, 'xdg-data') }, cwd: workspace, logFile: join(tmp, 'code-server.log') });
  onCleanup(() => server.stop());
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 60_000, exited: server.exited }).catch((e) => {
    throw new Error(`${e.message}\n--- code-server log ---\n${server.logTail()}`);
  });
  return { server, port, url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}` };
}

async function runE2E() {
  const dir = resolve(opt('--e2e-dir') ?? join(root, 'out', 'test', 'e2e'));
  const grep = opt('--grep') ? new RegExp(opt('--grep')) : undefined;
  const files = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.e2e.js') && (!grep || grep.test(f))).sort()
    : [];
  if (files.length === 0) {
    console.error(`[harness] no e2e tests in ${dir} (compile with npx tsc -p tsconfig.extension.json)`);
    return 1;
  }
  mkdirSync(screenshotsDir, { recursive: true });
  const shared = makeTemp('e2e');
  const extDir = join(shared, 'extensions');
  mkdirSync(extDir, { recursive: true });
  await installExtension(extDir, process.env, shared);
  const browser = await launchChromium();
  let failed = 0;
  for (const file of files) {
    const name = basename(file, '.e2e.js');
    const tmp = makeTemp(`e2e-${name}`);
    const { workspace, dataDir, env } = prepareWorkspace(tmp);
    setPhase(`e2e ${name}: starting code-server`);
    const t0 = Date.now();
    let cs;
    let context;
    try {
      cs = await startCodeServer(tmp, extDir, env, workspace);
      context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => log(`[${name} page error] ${e.message}`));
      setPhase(`e2e ${name}: running`);
      const mod = require(join(dir, file));
      const run = mod.run ?? mod.default;
      if (typeof run !== 'function') throw new Error(`${file} exports no run(ctx) function`);
      await page.goto(cs.url, { timeout: 60_000 });
      await run({
        page,
        url: cs.url,
        port: cs.port,
        workspaceDir: workspace,
        dataDir,
        tmpDir: tmp,
        repoRoot: root,
        log: (...a) => log(`[${name}]`, ...a),
        screenshot: async (shot) => {
          const p = join(screenshotsDir, `${name}-${shot}.png`);
          await page.screenshot({ path: p });
          log(`[${name}] screenshot ${p}`);
          return p;
        },
      });
      log(`[harness] e2e ${name}: passed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    } catch (e) {
      failed++;
      console.error(`[harness] e2e ${name}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)}s: ${e?.stack ?? e}`);
      try {
        const pages = context?.pages() ?? [];
        if (pages[0]) {
          const p = join(screenshotsDir, `${name}-FAILED.png`);
          await pages[0].screenshot({ path: p, timeout: 10_000 });
          console.error(`[harness] screenshot of the failure: ${p}`);
        }
      } catch {}
      if (cs) console.error(`--- code-server log (tail) ---\n${cs.server.logTail(3000)}`);
    } finally {
      await context?.close().catch(() => {});
      await cs?.server.stop();
      killProcessesMentioning(tmp);
    }
  }
  return failed ? 1 : 0;
}

// ------------------------------------------------------------------------------------------------------------ main

let code = 1;
try {
  if (!desktop) await ensureVsCode();
  if (mode === 'integration' || mode === 'all') {
    code = await runIntegration();
    await cleanupAll();
  }
  if (mode === 'e2e' || (mode === 'all' && code === 0)) code = await runE2E();
} catch (e) {
  // After a hard timeout the handler above cleans up and exits 124; errors caused by its killing are not news.
  if (timedOut) await new Promise(() => {});
  console.error(`[harness] failed while ${phase}: ${e?.stack ?? e}`);
  code = 1;
} finally {
  if (timedOut) await new Promise(() => {});
  clearTimeout(hardTimer);
  await cleanupAll();
}
process.exit(code);
