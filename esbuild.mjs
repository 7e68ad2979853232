// One build script, several bundles: the CLI (node), the broker process (node), the extension (node, cjs,
// vscode external) and the webviews (browser). `--production` minifies; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const builds = [
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: ['src/broker/cluster/brokerMain.ts'], outfile: 'dist/broker.js' },
];
// Benchmarks: every bench/*.ts becomes dist/bench/*.js, except bench/lib.ts (code the benchmarks share).
for (const name of existsSync('bench') ? readdirSync('bench').filter((n) => n.endsWith('.ts') && n !== 'lib.ts') : []) {
  builds.push({ ...node, entryPoints: [`bench/${name}`], outfile: `dist/bench/${name.replace(/\.ts$/, '.js')}` });
}
if (existsSync('src/extension/extension.ts')) {
  builds.push({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] });
}

// Webviews (browser): every webview/<panel>/main.ts becomes dist/webview/<panel>.js (+ .css from its imports).
// The VSIX ships dist/ and media/ only, so the codicons the panels use are copied into dist/codicons/.
const browser = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'chrome114',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};
for (const name of existsSync('webview') ? readdirSync('webview').filter((n) => n !== 'shared' && existsSync(`webview/${n}/main.ts`)) : []) {
  builds.push({ ...browser, entryPoints: [`webview/${name}/main.ts`], outfile: `dist/webview/${name}.js` });
}
mkdirSync('dist/codicons', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/codicons/${f}`);

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
