#!/usr/bin/env node
// Opens the built VSIX (a zip) and checks that it holds only what the extension runs: the bundles in dist/, media/,
// package.json, README and LICENSE (plus vsce's own [Content_Types].xml and extension.vsixmanifest).
// Usage: node scripts/check-vsix.mjs [file.vsix]   (default: <name>-<version>.vsix from package.json)
import { readFileSync, existsSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const file = process.argv[2] ?? join(root, `${pkg.name}-${pkg.version}.vsix`);
if (!existsSync(file)) {
  console.error(`check-vsix: ${file} does not exist (npm run package builds it)`);
  process.exit(1);
}

/** Entries of a zip file from its central directory: name, sizes, and a reader for the content. */
function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    out.push({
      name,
      size,
      read() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const data = buf.subarray(start, start + compressed);
        return method === 0 ? data : inflateRawSync(data);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const entries = zipEntries(readFileSync(file));
const allowed = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/readme\.md$/i,
  /^extension\/license(\.txt)?$/i,
  /^extension\/dist\/[^/]+\.js$/,
  /^extension\/dist\/webview\/.+\.(js|css|ttf|woff2?|svg|png)$/,
  /^extension\/dist\/codicons\/.+$/,
  /^extension\/media\/.+$/,
];
const unexpected = entries.filter((e) => !allowed.some((re) => re.test(e.name))).map((e) => e.name);
const names = new Set(entries.map((e) => e.name));
const main = `extension/${pkg.main.replace(/^\.\//, '')}`;
const required = ['extension/package.json', main, 'extension/dist/cli.js', 'extension/dist/broker.js'];
const missing = required.filter((n) => !names.has(n));
if (!entries.some((e) => /^extension\/license/i.test(e.name))) missing.push('extension/LICENSE');
if (!entries.some((e) => /^extension\/readme\.md$/i.test(e.name))) missing.push('extension/README.md');
const manifest = JSON.parse(entries.find((e) => e.name === 'extension/package.json').read().toString('utf8'));
const total = entries.reduce((n, e) => n + e.size, 0);
console.log(`check-vsix: ${file}: ${entries.length} files, ${(total / 1e6).toFixed(1)} MB unpacked, ${manifest.publisher}.${manifest.name}@${manifest.version}`);
for (const e of entries) console.log(`  ${String(e.size).padStart(9)}  ${e.name}`);
if (unexpected.length || missing.length) {
  if (unexpected.length) console.error(`check-vsix: files that should not ship (fix .vscodeignore):\n  ${unexpected.join('\n  ')}`);
  if (missing.length) console.error(`check-vsix: missing:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
