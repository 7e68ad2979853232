// The layer rules of the architecture (README), checked over every import of the source tree: only
// src/extension imports vscode; the codec and the broker import neither vscode nor kafkajs; the codec does no I/O;
// the webview pages and src/shared reach neither Node nor VS Code; nothing below the extension imports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');

interface Import {
  file: string;
  line: number;
  spec: string;
  /** For a relative import: the repository path it resolves to. */
  target?: string;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Runtime imports of a file (`import type` and `export type` are erased by the compiler and do not count). */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) {
    if (m[1]) continue;
    const spec = m[2] ?? m[3];
    const line = text.slice(0, m.index).split('\n').length;
    const rel = relative(ROOT, file);
    out.push({ file: rel, line, spec, target: spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)) : undefined });
  }
  return out;
}

const ALL = ['src', 'webview'].flatMap((d) => sources(join(ROOT, d))).flatMap(importsOf);

function violations(fileUnder: string, bad: (i: Import) => boolean): string[] {
  return ALL.filter((i) => i.file.startsWith(fileUnder) && bad(i)).map((i) => `${i.file}:${i.line} imports ${i.spec}`);
}

const isNode = (i: Import) => i.spec.startsWith('node:') || ['fs', 'path', 'net', 'os', 'child_process', 'crypto', 'http', 'zlib'].includes(i.spec);
const inside = (i: Import, dir: string) => i.target !== undefined && (i.target === dir || i.target.startsWith(dir + '/'));

test('the source tree was found', () => {
  assert.ok(ALL.length > 200, `only ${ALL.length} imports found under ${ROOT}`);
  assert.ok(ALL.some((i) => i.file.startsWith('src/extension/') && i.spec === 'vscode'), 'the extension imports vscode');
});

test('only src/extension imports vscode', () => {
  assert.deepEqual(violations('', (i) => i.spec === 'vscode' && !i.file.startsWith('src/extension/')), []);
});

test('src/protocol: no I/O, no clients, nothing from the layers above it', () => {
  const allowed = new Set(['node:zlib', 'snappyjs', 'lz4js', 'fzstd']);
  assert.deepEqual(violations('src/protocol/', (i) => (i.target ? !inside(i, 'src/protocol') : !allowed.has(i.spec))), []);
});

test('src/broker: Node and the codec only, never vscode, kafkajs, the client facade, the CLI or the extension', () => {
  assert.deepEqual(
    violations('src/broker/', (i) =>
      i.target ? !(inside(i, 'src/broker') || inside(i, 'src/protocol')) : !(isNode(i) || i.spec === 'node-forge'),
    ),
    [],
  );
});

test('src/client: kafkajs and Node, never the broker or the extension', () => {
  assert.deepEqual(violations('src/client/', (i) => inside(i, 'src/broker') || inside(i, 'src/extension') || inside(i, 'src/cli')), []);
});

test('src/cli: never the extension', () => {
  assert.deepEqual(violations('src/cli/', (i) => inside(i, 'src/extension')), []);
});

test('src/shared and webview/: neither Node nor VS Code, and nothing of src/ but src/shared', () => {
  const bad = (i: Import) => isNode(i) || (i.target !== undefined && i.target.startsWith('src/') && !inside(i, 'src/shared'));
  assert.deepEqual([...violations('src/shared/', bad), ...violations('webview/', bad)], []);
});

test('the webview toolkit is used through webview/shared only', () => {
  assert.deepEqual(violations('', (i) => i.spec.startsWith('@vscode/webview-ui-toolkit') && !i.file.startsWith('webview/shared/')), []);
});
