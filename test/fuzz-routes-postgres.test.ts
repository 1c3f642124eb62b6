/** The route fuzzer (test/helpers/fuzz-suite.ts, docs/testing.md) on PostgreSQL (skipped without FTNODE_TEST_PG_URL). */
import { fuzzSuite } from './helpers/fuzz-suite.js';

fuzzSuite('postgres');
