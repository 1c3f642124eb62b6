/** The documentation says what the code does: the transition table, the error catalogue and the settings. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

test('docs/configuration.md documents every FTNODE_ variable the config reads', () => {
  const text = doc('configuration.md');
  const source = readFileSync(fileURLToPath(new URL('../../src/config/config.ts', import.meta.url)), 'utf8');
  for (const v of new Set(source.match(/FTNODE_[A-Z_]+/g) ?? [])) assert.ok(text.includes(v), `missing ${v}`);
});
