/** EtaEstimator: pace from this attempt's first report, zero at the end, early stop ends the count. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtaEstimator } from './eta.js';

test('remaining time from the pace since the first report; early stop makes the end the stop step', () => {
  let t = 0;
  const eta = new EtaEstimator(() => t);
  assert.equal(eta.estimate(10, 100), null, 'one report gives no pace');
  t = 2000;
  assert.equal(eta.estimate(20, 100), 16); // 0.2 s per step × 80 steps
  t = 3000;
  assert.equal(eta.estimate(25, null), null, 'no total, no estimate');
  eta.stopAt(30);
  assert.equal(eta.estimate(30, 100), 0);
  assert.equal(eta.estimate(100, 100), 0);
});

test('a step that goes back (a resumed attempt re-reporting) restarts the pace', () => {
  let t = 0;
  const eta = new EtaEstimator(() => t);
  eta.estimate(50, 100);
  t = 1000;
  assert.equal(eta.estimate(40, 100), null);
  t = 2000;
  assert.equal(eta.estimate(50, 100), 5); // 1 s for 10 steps × 50 steps left
});
