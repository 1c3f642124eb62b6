/**
 * The layer rules hold: dependency-cruiser (the real binary, .dependency-cruiser.cjs) finds no import
 * against docs/architecture.md's "may import" table and no import cycle in src/ and web/src/; the
 * same rules, run on a planted tree, name each planted break (a forbidden edge, a type-only forbidden
 * edge, a cycle) and nothing else; and the docs table says what scripts/layers.cjs says.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const BIN = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const { MAY_IMPORT, SERVICE_WINGS } = createRequire(import.meta.url)(join(ROOT, 'scripts/layers.cjs')) as { MAY_IMPORT: Record<string, string[]>; SERVICE_WINGS: Record<string, string[]> };

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}

/** Runs the cruiser in `cwd` on `paths`; returns its violations. */
function cruise(cwd: string, paths: string[]): { violations: Violation[] } {
  const r = spawnSync(process.execPath, [BIN, ...paths, '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(r.stdout, `dependency-cruiser printed nothing: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  return { violations: out.summary.violations };
}

function describe(v: Violation): string {
  return `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;
}

test('src/ and web/src/ keep the layer table and have no import cycle', () => {
  const { violations } = cruise(ROOT, ['src', 'web/src']);
  assert.deepEqual(violations.map(describe), []);
});

test('a planted forbidden edge, type-only edge and cycle are each caught', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ftnode-layers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  file('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  file('src/store/store.ts', 'export interface Row { id: string }\nexport const open = (): Row => ({ id: "x" });\n');
  file('src/service/jobs.ts', "import { open } from '../store/store.js';\nexport const job = open();\n"); // allowed: service → store
  file('src/cli/main.ts', "import { open } from '../store/store.js';\nconsole.log(open());\n"); // forbidden: cli → store
  file('src/domain/job.ts', "import type { Row } from '../store/store.js';\nexport type Job = Row;\n"); // forbidden, type only
  file('src/lib/a.ts', "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n"); // a ↔ b
  file('src/lib/b.ts', "import { a } from './a.js';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n");
  file('src/service/jobs/create.ts', "import { job } from '../jobs.js';\nexport const created = job;\n"); // allowed: a wing → a shared module
  file('src/service/files/files.ts', "import { created } from '../jobs/create.js';\nexport const f = created;\n"); // forbidden: files/ → jobs/
  file('src/service/bus.ts', "import { f } from './files/files.js';\nexport const bus = f;\n"); // forbidden: a shared module → a wing
  const { violations } = cruise(dir, ['src']);
  const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
  assert.deepEqual(found, [
    'layer-cli: src/cli/main.ts → src/store/store.ts',
    'layer-domain: src/domain/job.ts → src/store/store.ts',
    'no-cycles: src/lib/a.ts → src/lib/b.ts', // a cycle is reported once, from its first module
    'service-shared: src/service/bus.ts → src/service/files/files.ts',
    'service-wing-files: src/service/files/files.ts → src/service/jobs/create.ts',
  ]);
});

test("docs/architecture.md's layer table says what scripts/layers.cjs enforces", () => {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const m of doc.matchAll(/^\| `src\/(\w+)\/` \|[^|]*\| ([^|]*) \|$/gm)) {
    const cell = m[2]!.trim();
    rows.set(m[1]!, cell === 'node built-ins' ? [] : cell === 'every folder above' ? ['*'] : [...cell.matchAll(/`(\w+)\/`/g)].map((x) => x[1]!).sort());
  }
  for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
    const documented = rows.get(layer);
    assert.ok(documented, `docs/architecture.md has no row for src/${layer}/`);
    if (documented[0] === '*') continue; // app: the composition root imports everything
    assert.deepEqual(documented, [...allowed].sort(), `src/${layer}/ may import`);
  }
  assert.deepEqual([...rows.keys()].sort(), Object.keys(MAY_IMPORT).sort());
});

test("docs/architecture.md's service wing table says what scripts/layers.cjs enforces", () => {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const m of doc.matchAll(/^\| `service\/(\w+)\/` \|[^|]*\| ([^|]*) \|$/gm)) {
    const cell = m[2]!.trim();
    rows.set(m[1]!, cell === 'no wing' ? [] : [...cell.matchAll(/`(\w+)\/`/g)].map((x) => x[1]!).sort());
  }
  assert.deepEqual([...rows.keys()].sort(), Object.keys(SERVICE_WINGS).sort());
  for (const [wing, allowed] of Object.entries(SERVICE_WINGS)) assert.deepEqual(rows.get(wing), [...allowed].sort(), `src/service/${wing}/ may import`);
});
