#!/usr/bin/env node
// Installs the VS Code that the extension's tests run in: the VS Code server shipped inside the code-server npm
// package (4.100.3, the newest release that runs on Node 20), into .vscode-test/code-server/ (gitignored).
// Desktop VS Code cannot be downloaded on the CI machines; see README "Tests" and scripts/run-vscode-tests.mjs.
//
// Idempotent: a marker file records a finished install, so a second run returns at once.
// Traps handled (all seen on Debian 12 as root, no network but the npm registry and Debian):
//  - code-server's postinstall refuses to run as root unless npm_config_unsafe_perm=true;
//  - node-pty's install runs `npx node-gyp`, which waits at a prompt unless npm_config_yes=true;
//  - @vscode/ripgrep's postinstall downloads rg from GitHub; it first looks for a cached archive in
//    $TMPDIR/vscode-ripgrep-cache-<version>/, so we put one there that holds Debian's /usr/bin/rg.
//
// Usage: node scripts/vscode-setup.mjs [--force]      env: CHROMIUM_PATH (default /usr/bin/chromium)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arch } from 'node:os';

export const CODE_SERVER_VERSION = '4.100.3';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const installDir = join(root, '.vscode-test', 'code-server');
export const codeServerDir = join(installDir, 'node_modules', 'code-server');
export const serverMain = join(codeServerDir, 'lib', 'vscode', 'out', 'server-main.js');
export const codeServerBin = join(codeServerDir, 'out', 'node', 'entry.js');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const marker = join(installDir, '.minikafka-setup.json');
const FALLBACK_RIPGREP_PACKAGE = '1.15.11';
// @vscode/ripgrep package version -> the ripgrep-prebuilt release its postinstall fetches (lib/postinstall.js VERSION).
const RIPGREP_RELEASE = { '1.15.11': 'v13.0.0-10', '1.15.10': 'v13.0.0-10', '1.15.9': 'v13.0.0-10' };
const INSTALL_TIMEOUT_MS = 10 * 60_000;

function fail(msg) {
  console.error(`vscode-setup: ${msg}`);
  process.exit(1);
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || undefined;
}

/** Everything the install and the tests need from the OS, with the Debian package that provides it. */
export function checkPrerequisites() {
  const missing = [];
  if (!existsSync(chromiumPath)) missing.push(`chromium (${chromiumPath}; apt-get install -y chromium, or set CHROMIUM_PATH)`);
  if (!which('rg')) missing.push('rg (apt-get install -y ripgrep)');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/gssapi/gssapi.h')) {
    missing.push('Kerberos headers for code-server\'s native kerberos module (apt-get install -y libkrb5-dev)');
  }
  for (const [cmd, pkg] of [['make', 'make'], ['g++', 'g++'], ['python3', 'python3']]) {
    if (!which(cmd)) missing.push(`${cmd} for node-gyp (apt-get install -y ${pkg})`);
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) missing.push(`Node 20 (code-server ${CODE_SERVER_VERSION} requires it; this is Node ${process.versions.node})`);
  return missing;
}

export function isInstalled() {
  if (!existsSync(marker) || !existsSync(serverMain)) return false;
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8'));
    return m.version === CODE_SERVER_VERSION && m.node === process.versions.node.split('.')[0];
  } catch {
    return false;
  }
}

function runStep(label, cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    console.log(`vscode-setup: ${label}`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
    let log = '';
    const keep = (b) => {
      log += b.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      reject(new Error(`${label}: timed out after ${INSTALL_TIMEOUT_MS / 1000}s\n${log.slice(-4000)}`));
    }, INSTALL_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        console.log(`vscode-setup: ${label}: done in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
        resolve(log);
      } else reject(new Error(`${label}: exit ${code ?? signal}\n${log.slice(-6000)}`));
    });
  });
}

function ripgrepTarget() {
  return arch() === 'arm64' ? 'aarch64-unknown-linux-musl' : 'x86_64-unknown-linux-musl';
}

/** The @vscode/ripgrep version that lib/vscode pins, from its shrinkwrap/lockfile or package.json. */
function ripgrepPackageVersion() {
  const vs = join(codeServerDir, 'lib', 'vscode');
  for (const f of ['npm-shrinkwrap.json', 'package-lock.json']) {
    try {
      const v = JSON.parse(readFileSync(join(vs, f), 'utf8')).packages?.['node_modules/@vscode/ripgrep']?.version;
      if (v) return v;
    } catch {}
  }
  try {
    const range = JSON.parse(readFileSync(join(vs, 'package.json'), 'utf8')).dependencies?.['@vscode/ripgrep'];
    const m = /(\d+\.\d+\.\d+)/.exec(range ?? '');
    if (m) return m[1];
  } catch {}
  return FALLBACK_RIPGREP_PACKAGE;
}

/** A cached "download" for @vscode/ripgrep: a tar.gz holding Debian's rg at its root. */
function seedRipgrepCache(tmpDir) {
  const version = ripgrepPackageVersion();
  const release = RIPGREP_RELEASE[version] ?? 'v13.0.0-10';
  const cacheDir = join(tmpDir, `vscode-ripgrep-cache-${version}`);
  const archive = join(cacheDir, `ripgrep-${release}-${ripgrepTarget()}.tar.gz`);
  if (existsSync(archive)) return archive;
  mkdirSync(cacheDir, { recursive: true });
  const stage = join(tmpDir, 'rg-stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(which('rg'), join(stage, 'rg'));
  chmodSync(join(stage, 'rg'), 0o755);
  const r = spawnSync('tar', ['-czf', archive, '-C', stage, 'rg']);
  if (r.status !== 0) fail(`could not create ${archive}: ${r.stderr}`);
  console.log(`vscode-setup: @vscode/ripgrep ${version} will use ${archive} (Debian's rg)`);
  return archive;
}

export async function setup({ force = false } = {}) {
  const missing = checkPrerequisites();
  if (missing.length) fail('missing prerequisites:\n  - ' + missing.join('\n  - '));
  if (!force && isInstalled()) {
    console.log(`vscode-setup: code-server ${CODE_SERVER_VERSION} already installed in ${installDir}`);
    return;
  }
  const t0 = Date.now();
  rmSync(marker, { force: true });
  mkdirSync(installDir, { recursive: true });
  if (!existsSync(join(installDir, 'package.json'))) {
    writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'minikafka-vscode-test', private: true }, null, 2) + '\n');
  }
  const tmpDir = join(root, '.vscode-test', 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const env = {
    ...process.env,
    npm_config_unsafe_perm: 'true',
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    TMPDIR: tmpDir,
  };
  // 1. Fetch the package without running scripts, so the ripgrep version can be read from its lockfile.
  await runStep(`npm install --ignore-scripts code-server@${CODE_SERVER_VERSION}`, 'npm',
    ['install', '--ignore-scripts', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], { cwd: installDir, env });
  seedRipgrepCache(tmpDir);
  // 2. Now run every install script (argon2, code-server's postinstall = npm install in lib/vscode and extensions).
  await runStep('npm rebuild (native modules, lib/vscode dependencies)', 'npm', ['rebuild', '--foreground-scripts'], { cwd: installDir, env });
  if (!existsSync(serverMain)) fail(`install finished but ${serverMain} is missing`);
  const rg = join(codeServerDir, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  if (!existsSync(rg)) fail(`install finished but ${rg} is missing (the ripgrep cache trap was not handled)`);
  writeFileSync(marker, JSON.stringify({ version: CODE_SERVER_VERSION, node: process.versions.node.split('.')[0], at: new Date().toISOString() }) + '\n');
  console.log(`vscode-setup: code-server ${CODE_SERVER_VERSION} installed in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  setup({ force: process.argv.includes('--force') }).catch((e) => fail(e.message));
}
