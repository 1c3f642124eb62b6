/** isoMicros against toISOString, over random instants, day edges, negative times and fractions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoMicros } from './time.js';

const reference = (ms: number): string => `${new Date(ms).toISOString().slice(0, 23)}000Z`;

test('isoMicros equals toISOString with three extra zero digits', () => {
  const cases = [0, 1, 999, 86_399_999, 86_400_000, -1, -86_400_001, 1_777_300_338_421, 951_782_400_000 /* 2000-02-29 */,
    -62_167_219_200_000, 253_402_300_799_999, 1_700_000_000_123.9, -0.5];
  let seed = 12345;
  for (let i = 0; i < 20_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    cases.push(Math.floor((seed / 2 ** 32) * 5e12) - 1e12 + (i % 7) * 0.25);
  }
  for (const ms of cases) assert.equal(isoMicros(ms), reference(ms), String(ms));
  assert.equal(isoMicros(1_777_300_338_421), '2026-04-27T14:32:18.421000Z');
});
