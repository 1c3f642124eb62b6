/**
 * Runs the store conformance cases on one backend and proves they exercise the whole Store interface.
 * Each case gets a fresh, migrated store (a new SQLite file, or a new PostgreSQL schema) behind a
 * recorder that notes every method called and forwards to the real store unchanged. A case that
 * fails keeps its database and prints where it is; one that passes removes it. The last test of a
 * backend compares the recorded names with the method names of `interface Store` (and the
 * interfaces it extends) read from src/store/store.ts by the TypeScript compiler, and fails naming
 * every method no case called.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Store } from '../../src/store/store.js';
import { Fixtures } from '../helpers/store-fixtures.js';
import { openTestStore } from '../helpers/test-store.js';

export interface CaseContext {
  s: Store;
  f: Fixtures;
  /** A second store on the same data (another replica, or the process after a restart); the case closes it. */
  reopen(): Store;
}

export interface Case {
  name: string;
  run(c: CaseContext): Promise<void>;
}

const STORE_TS = fileURLToPath(new URL('../../../src/store/store.ts', import.meta.url));

/** Method names of `interface <name>` in store.ts, with those of the interfaces it extends there. */
export function interfaceMethods(source: string, name: string): string[] {
  const file = ts.createSourceFile('store.ts', source, ts.ScriptTarget.ES2022, true);
  const decls = new Map<string, ts.InterfaceDeclaration>();
  file.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n)) decls.set(n.name.text, n);
  });
  const out: string[] = [];
  const walk = (iface: string): void => {
    const d = decls.get(iface);
    if (!d) throw new Error(`interface ${iface} is not declared in store.ts`);
    for (const h of d.heritageClauses ?? []) for (const t of h.types) walk(t.expression.getText(file));
    for (const m of d.members) {
      // A method signature, or a property whose type is a function: both are calls a backend must answer.
      if (ts.isMethodSignature(m) || (ts.isPropertySignature(m) && m.type && ts.isFunctionTypeNode(m.type))) out.push(m.name.getText(file));
    }
  };
  walk(name);
  return out;
}

export const STORE_METHODS = interfaceMethods(readFileSync(STORE_TS, 'utf8'), 'Store');

/** The store with every method call noted in `seen` (by name), forwarded unchanged. */
function recording(store: Store, seen: Set<string>): Store {
  return new Proxy(store, {
    get(target, prop, _receiver) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        seen.add(prop);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Registers every case, then the coverage check, as tests of the current describe block. */
export function runCases(dialect: 'sqlite' | 'postgres', cases: Case[]): void {
  const seen = new Set<string>();
  for (const c of cases) {
    test(c.name, async (t) => {
      const opened = await openTestStore(dialect, 'conf');
      const s = recording(opened.store, seen);
      let passed = false;
      try {
        await c.run({ s, f: new Fixtures(s), reopen: () => recording(opened.reopen(), seen) });
        passed = true;
      } finally {
        if (!passed) {
          // stderr, not only a diagnostic: the name must survive a reporter that hides diagnostics
          process.stderr.write(`store conformance (${dialect}): "${c.name}" failed; its data is kept in ${opened.where}\n`);
          t.diagnostic(`data kept in ${opened.where}`);
        }
        await opened.done({ keep: !passed });
      }
    });
  }
  test('every Store method is called by a case', () => {
    assert.ok(STORE_METHODS.length >= 60 && STORE_METHODS.includes('claimJob') && STORE_METHODS.includes('insertWorkerToken'),
      `store.ts parsed to ${STORE_METHODS.length} methods: ${STORE_METHODS.join(', ')}`);
    const missed = STORE_METHODS.filter((m) => !seen.has(m));
    assert.deepEqual(missed, [], `Store methods no case called (add a case in test/store-conformance/): ${missed.join(', ')}`);
  });
}
