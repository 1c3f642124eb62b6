/**
 * The edge checks of what remote workers report (src/api/worker-reports.ts): each shape the route
 * fuzzer found reaching the service or the database (a 500) is a 400 invalid_parameter here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointReportOf, eventOf, metricsOf, outputReportOf, progressOf, registrationOf } from '../src/api/worker-reports.js';
import { FtError } from '../src/domain/errors.js';

const refused = (f: () => unknown): void => assert.throws(f, (e: unknown) => e instanceof FtError && e.code === 'invalid_parameter');
const sha = 'ab'.repeat(32);

test('progress: step required, the rest numbers or null; rebuilt with exactly the record keys', () => {
  assert.deepEqual(progressOf({ step: 3, extra: 1 }), { step: 3, total_steps: null, epoch: null, phase: null, eta_seconds: null });
  for (const bad of [null, [], { step: '3' }, { step: 1, total_steps: {} }, { step: 1, phase: 2 }, { step: Number.NaN }]) refused(() => progressOf(bad));
});

test('events, metrics and registrations of the wrong shape are refused', () => {
  assert.equal(eventOf({ type: 't', message: 'm' }).level, 'info');
  refused(() => eventOf({ type: 't', message: ['a', 'b'] }));
  refused(() => eventOf({ level: 'fatal', type: 't', message: 'm' }));
  refused(() => metricsOf(undefined, { loss: 1 }));
  refused(() => metricsOf(1, [1]));
  refused(() => registrationOf({ node: 'n', concurrency: {} }));
  assert.equal(registrationOf({ node: 'n', concurrency: 2 }).concurrency, 2);
});

test('a checkpoint report: integer step, size and a sha256; name defaults to step_N', () => {
  assert.deepEqual(checkpointReportOf({ step: 4, size: 10, sha256: sha }), { step: 4, name: 'step_4', size: 10, sha256: sha, metrics: {}, meta: {} });
  for (const bad of [{ step: '4', size: 10, sha256: sha }, { step: 4, size: -1, sha256: sha }, { step: 4, size: 10, sha256: 'xyz' }, { step: 4, size: 10, sha256: sha, metrics: [] }, { step: 4, size: 10, sha256: sha, name: 5 }]) {
    refused(() => checkpointReportOf(bad));
  }
});

test('an output report: a plain file name (an array is not one), size, sha256 and the input file', () => {
  const ok = { filename: 'part-0.csv', size: 3, sha256: sha, input_file_id: 'file-1' };
  assert.deepEqual(outputReportOf(ok), ok);
  for (const filename of [['a', 'b'], '../x.csv', '.hidden', '', 'a/b']) refused(() => outputReportOf({ ...ok, filename }));
  refused(() => outputReportOf({ ...ok, input_file_id: 7 }));
});
