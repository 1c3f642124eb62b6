/** The documentation says what the code does: the transition table, the error catalogue and the settings. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HTTP_STATUS } from '../src/api/http-status.js';
import { ERROR_CATALOGUE } from '../src/domain/errors.js';
import { renderTransitionTable } from '../src/domain/status-table.js';

const doc = (name: string): string => readFileSync(fileURLToPath(new URL(`../../docs/${name}`, import.meta.url)), 'utf8');

test('docs/lifecycle.md embeds the transition table generated from src/domain/status.ts', () => {
  const text = doc('lifecycle.md');
  const m = /<!-- transition-table:begin -->\n([\s\S]*?)\n<!-- transition-table:end -->/.exec(text);
  assert.ok(m, 'table markers missing');
  assert.equal(m[1], renderTransitionTable());
});

test('docs/errors.md lists every code of the error catalogue with its HTTP status', () => {
  const text = doc('errors.md');
  for (const code of Object.keys(ERROR_CATALOGUE) as Array<keyof typeof ERROR_CATALOGUE>) assert.ok(text.includes(`| \`${code}\` | ${HTTP_STATUS[code]} |`), `missing ${code}`);
});

/** Every file of the repository's own text under these roots (sources, tests, benches, scripts, docs). */
function texts(roots: string[]): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  const walk = (rel: string): void => {
    const abs = fileURLToPath(new URL(`../../${rel}`, import.meta.url));
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs)) if (name !== 'node_modules' && !name.startsWith('.')) walk(`${rel}/${name}`);
    } else if (/\.(ts|mjs|cjs|md)$/.test(rel)) out.push({ path: rel, text: readFileSync(abs, 'utf8') });
  };
  for (const r of roots) walk(r);
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as '-'. */
const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

test('the repository reads alone: no comment or page cites a document outside it, and every cited docs anchor exists', () => {
  const files = [...texts(['src', 'test', 'bench', 'scripts', 'docs', 'web/src']), { path: 'README.md', text: readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8') }];
  // The names of the outside documents, assembled from pieces so that this file does not cite them itself.
  const names = [['contract', ' §'], ['archetype', '-api'], ['DESIGN', '\\.md'], ['shared', '\\/(spec|notes)'], ['datasets', '\\/swat\\/README']];
  const outside = new RegExp(names.map(([a, b]) => a + b).join('|'));
  assert.deepEqual(files.filter((f) => outside.test(f.text)).map((f) => `${f.path}: ${outside.exec(f.text)![0]}`), []);
  const anchors = new Map<string, Set<string>>();
  const anchorsOf = (page: string): Set<string> => {
    if (!anchors.has(page)) anchors.set(page, new Set([...doc(page).matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!))));
    return anchors.get(page)!;
  };
  const broken: string[] = [];
  let cited = 0;
  for (const f of files) {
    const dir = f.path.startsWith('docs/') ? f.path.slice(5).replace(/[^/]*$/, '') : '';
    const refs = [...f.text.matchAll(/docs\/([\w/-]+\.md)#([\w-]+)/g)].map((m) => [m[1]!, m[2]!]);
    if (f.path.startsWith('docs/')) for (const m of f.text.matchAll(/\]\(([\w./-]+\.md)#([\w-]+)\)/g)) refs.push([join(dir, m[1]!).replace(/\\/g, '/'), m[2]!]);
    for (const [page, anchor] of refs) {
      cited++;
      if (!anchorsOf(page!).has(anchor!)) broken.push(`${f.path} → ${page}#${anchor}`);
    }
  }
  assert.ok(cited > 40, `only ${cited} anchors found: the scan is broken`);
  assert.deepEqual(broken, []);
});

test('docs/configuration.md documents every FTNODE_ variable the config reads', () => {
  const text = doc('configuration.md');
  const source = readFileSync(fileURLToPath(new URL('../../src/config/config.ts', import.meta.url)), 'utf8');
  for (const v of new Set(source.match(/FTNODE_[A-Z_]+/g) ?? [])) assert.ok(text.includes(v), `missing ${v}`);
});
