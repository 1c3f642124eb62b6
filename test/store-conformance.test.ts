/**
 * The Store conformance suite: every case of test/store-conformance/cases.ts on SQLite (a file in a
 * temporary directory) and on PostgreSQL when FTNODE_TEST_PG_URL is set (a fresh schema per case),
 * then a check that the cases called every method of the Store interface. A failing case keeps its
 * database and prints where (docs/testing.md).
 */
import { describe, test } from 'node:test';
import { STORE_CASES } from './store-conformance/cases.js';
import { runCases } from './store-conformance/harness.js';
import { TEST_PG_URL } from './helpers/test-store.js';

describe('Store conformance: sqlite', () => runCases('sqlite', STORE_CASES));

if (TEST_PG_URL) describe('Store conformance: postgres', () => runCases('postgres', STORE_CASES));
else test('Store conformance: postgres', { skip: 'FTNODE_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' }, () => undefined);
