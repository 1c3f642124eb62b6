/**
 * Tests: the automatic hyperparameter rule, the hash-dimension rule, the featuriser and the PRNG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featurize, hashDimFor } from './features.js';
import { chooseHyperparameters } from './hyperparameters.js';
import { epochOrder, mulberry32 } from './prng.js';

test('hyperparameter rule: the documented numbers', () => {
  const mid = chooseHyperparameters(600, 4);
  assert.deepEqual(
    { ...mid },
    {
      epochs: 20,
      batch_size: 16,
      learning_rate: 10,
      bias_learning_rate: 0.5,
      ftrl_beta: 0.001,
      l1: 0.1,
      l2: 1e-4,
      steps_per_epoch: 38,
      total_steps: 760,
      eval_interval: 76,
      metrics_interval: 8,
    },
  );
  const small = chooseHyperparameters(100, 10);
  assert.equal(small.batch_size, 8);
  assert.equal(small.epochs, 40); // capped
  assert.equal(small.l1, 0.4);
  assert.equal(small.total_steps, 40 * 13);
  const big = chooseHyperparameters(10_000, 4);
  assert.equal(big.batch_size, 32); // capped
  assert.equal(big.epochs, 3); // floor
  assert.equal(big.l1, 0.05); // floor
  assert.equal(big.eval_interval, Math.ceil(big.total_steps / 10));
  const one = chooseHyperparameters(1, 1);
  assert.equal(one.total_steps, 40);
  assert.ok(one.eval_interval >= 1 && one.metrics_interval >= 1);
  assert.throws(() => chooseHyperparameters(0, 2));
});

test('hyperparameter rule is pure and monotone in n', () => {
  assert.deepEqual(chooseHyperparameters(1234, 7), chooseHyperparameters(1234, 7));
  let lastEpochs = Infinity;
  let lastBatch = 0;
  for (const n of [10, 50, 200, 600, 2000, 10_000, 100_000]) {
    const hp = chooseHyperparameters(n, 4);
    assert.ok(hp.epochs <= lastEpochs && hp.batch_size >= lastBatch, `n = ${n}`);
    assert.equal(hp.steps_per_epoch, Math.ceil(n / hp.batch_size));
    assert.equal(hp.total_steps, hp.epochs * hp.steps_per_epoch);
    lastEpochs = hp.epochs;
    lastBatch = hp.batch_size;
  }
});

test('hash dimension keeps each dense dim x k array under 8 MiB', () => {
  assert.equal(hashDimFor(2), 2 ** 18);
  assert.equal(hashDimFor(4), 2 ** 18);
  assert.equal(hashDimFor(8), 2 ** 18);
  assert.equal(hashDimFor(16), 2 ** 17);
  assert.equal(hashDimFor(50), 2 ** 15);
  assert.equal(hashDimFor(2000), 2 ** 12);
  for (let k = 1; k <= 512; k++) assert.ok(hashDimFor(k) * k * 4 <= 8 * 2 ** 20, `k = ${k}`);
});

test('features: deterministic, L2-normalised, case and whitespace insensitive, distinct texts differ', () => {
  const a = featurize('Temperature_C: 45.2,  vibration_mm_s: 7.1', 2 ** 18);
  const b = featurize('temperature_c: 45.2, VIBRATION_MM_S: 7.1', 2 ** 18);
  assert.deepEqual(a, b);
  const norm = a.val.reduce((s, v) => s + v * v, 0);
  assert.ok(Math.abs(norm - 1) < 1e-5);
  assert.ok(a.idx.length > 40 && a.idx.every((i) => i < 2 ** 18));
  const c = featurize('temperature_c: 25.2, vibration_mm_s: 7.1', 2 ** 18);
  assert.notDeepEqual(a, c);
  assert.equal(featurize('', 2 ** 12).idx.length, 0);
});

test('prng: seeded, reproducible, epoch orders are permutations that differ', () => {
  const r1 = mulberry32(7);
  const r2 = mulberry32(7);
  for (let i = 0; i < 5; i++) assert.equal(r1(), r2());
  const e0 = epochOrder(100, 42, 0);
  assert.deepEqual(e0, epochOrder(100, 42, 0));
  assert.deepEqual([...e0].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(e0, epochOrder(100, 42, 1));
  assert.notDeepEqual(e0, epochOrder(100, 43, 0));
});
