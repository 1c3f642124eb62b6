/**
 * Runs the store conformance cases on one backend and proves they exercise the whole Store interface.
 * Each case gets a fresh, migrated store (a new SQLite file, or a new PostgreSQL schema) behind a
 * recorder that notes every method called and forwards to the real store unchanged. A case that
 * fails keeps its database and prints where it is; one that passes removes it. The last test of a
 * backend compares the names called by passing cases with the method names of `interface Store`
 * (and the interfaces it extends) read from src/store/store.ts by the TypeScript compiler, and fails
 * naming every method no passing case called.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { interfaceMethods, recording } from '../helpers/interface-methods.js';
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

export const STORE_METHODS = interfaceMethods('src/store/store.ts', 'Store');

/** Registers every case, then the coverage check, as tests of the current describe block. */
export function runCases(dialect: 'sqlite' | 'postgres', cases: Case[]): void {
  const seen = new Set<string>();
  for (const c of cases) {
    test(c.name, async (t) => {
      const opened = await openTestStore(dialect, 'conf');
      const called = new Set<string>();
      const s = recording(opened.store, called);
      let passed = false;
      try {
        await c.run({ s, f: new Fixtures(s), reopen: () => recording(opened.reopen(), called) });
        passed = true;
        for (const m of called) seen.add(m); // only a passing case counts as exercising what it called
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
    assert.deepEqual(missed, [], `Store methods no passing case called (add a case in test/store-conformance/): ${missed.join(', ')}`);
  });
}
