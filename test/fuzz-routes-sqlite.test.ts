/** The route fuzzer (test/helpers/fuzz-suite.ts, docs/testing.md) on SQLite. */
import { fuzzSuite } from './helpers/fuzz-suite.js';

fuzzSuite('sqlite');
