/**
 * transformWindowsOnCores equals transformWindows bit for bit on 2 threads (batches that do not divide
 * the windows evenly, instance norm on and off), calls the hook with the same arguments, and stops
 * (null) when the hook asks to.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { transformWindowsOnCores } from './embed-pool.js';
import { fitEncoderRocket, transformWindows } from './encoder.js';
import { readSeriesFile } from './reader.js';
import { writeSynthetic } from './test-helpers.js';
import { identity, WindowSet } from './windows.js';

const files = await writeSynthetic(2, 400, 1);
after(() => rmSync(files.dir, { recursive: true, force: true }));

test('the threaded embedding pass equals the main-thread one; stop still works', async () => {
  const series = [];
  for (const f of files.train) series.push(await readSeriesFile(f.path, f.file_id, { dataColumns: null, timestampColumn: 'timestamp', minRows: 32 }));
  const ws = new WindowSet(series, 32, 2);
  const idx = identity(ws.count);
  for (const instanceNorm of [true, false]) {
    const enc = { instanceNorm, rocket: fitEncoderRocket(ws, 3, instanceNorm, 840), features: null };
    const calls1: number[][] = [], calls2: number[][] = [];
    const one = await transformWindows(ws, idx, enc, async (d, n) => (calls1.push([d, n]), false), 37);
    const two = await transformWindowsOnCores(ws, idx, enc, async (d, n) => (calls2.push([d, n]), false), 37, 2);
    assert.ok(ws.count > 8 * 37, `${ws.count} windows: enough batches for the threads`);
    assert.deepEqual(two, one);
    assert.deepEqual(calls2, calls1);
    assert.equal(await transformWindowsOnCores(ws, idx, enc, async (d) => d >= 5 * 37, 37, 2), null);
  }
});
