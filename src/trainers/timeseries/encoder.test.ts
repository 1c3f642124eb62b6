/** Encoder: deterministic for a seed, instance normalisation ignores per-window levels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitEncoderRocket, instanceNormalize, transformWindows } from './encoder.js';
import { parseCsvText } from './reader.js';
import { syntheticCsv } from './test-helpers.js';
import { identity, WindowSet } from './windows.js';

const opts = { dataColumns: null, timestampColumn: 'timestamp' };

function windows(): WindowSet {
  const series = [0, 1].map((k) => parseCsvText(syntheticCsv(k, 200, k), `f${k}.csv`, opts));
  return new WindowSet(series, 32, 8);
}

async function features(ws: WindowSet, seed: number, instanceNorm = true): Promise<Float32Array> {
  const rocket = fitEncoderRocket(ws, seed, instanceNorm, 840);
  return (await transformWindows(ws, identity(ws.count), { instanceNorm, rocket, features: null }))!;
}

test('the encoder is deterministic for a seed and differs across seeds', async () => {
  const ws = windows();
  const a = await features(ws, 3);
  const b = await features(ws, 3);
  const c = await features(ws, 4);
  assert.equal(a.length, ws.count * 840);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('instance normalisation subtracts each window-channel mean', () => {
  const buf = Float32Array.from([1, 2, 3, 10, 10, 10, 5, 5, 8, 0, 0, 0]); // n=2, C=2, L=3
  instanceNormalize(buf, 2, 2, 3);
  assert.deepEqual(Array.from(buf), [-1, 0, 1, 0, 0, 0, -1, -1, 2, 0, 0, 0]);
});

test('with instance normalisation a level shift does not change the features', async () => {
  const ws = windows();
  const shifted = new WindowSet(ws.series.map((s) => ({ ...s, data: s.data.map((v) => v + 7) })), 32, 8);
  const rocket = fitEncoderRocket(ws, 1, true, 840);
  const enc = { instanceNorm: true, rocket, features: null };
  const a = (await transformWindows(ws, identity(ws.count), enc))!;
  const b = (await transformWindows(shifted, identity(ws.count), enc))!;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  // float32 rounding of v + 7 can move a PPV count by one step (1/32) at most.
  assert.ok(maxDiff <= 1 / 32 + 1e-6, `max difference ${maxDiff}`);
});
