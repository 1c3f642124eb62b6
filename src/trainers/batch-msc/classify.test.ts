/**
 * Tests: the streaming classifyFile writes exactly what predictWindowsFromCheckpoint computes on the
 * whole file (same windows, end timestamps, predictions and float32 probabilities), across steps
 * below, equal to and above the window, batch sizes that split the windows unevenly, a file of
 * several 1 MiB pieces, leading and inner missing values; a file shorter than one window gives a
 * header-only output; a bad cell part way fails with its line and column and leaves no output.
 * Spread over a pool of 2 threads (pool.ts), the output and the progress calls are the same bytes
 * and values as on the main thread.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidDatasetError } from '../builtin.js';
import { timeseriesTrainer } from '../timeseries/index.js';
import { loadModel } from '../timeseries/model.js';
import { predictWindowsFromCheckpoint } from '../timeseries/predict.js';
import { makeSpec, recordingCtx, syntheticCsv, writeSynthetic } from '../timeseries/test-helpers.js';
import { classifyFile, outputHeader } from './classify.js';
import { ThreadPool } from './pool.js';

const files = await writeSynthetic(2, 200, 1);
after(() => rmSync(files.dir, { recursive: true, force: true }));
const rec = recordingCtx(makeSpec(files, 'knn', { n_neighbors: 3 }));
await timeseriesTrainer.train(rec.ctx);
const ckptPath = join(files.dir, 'model.ckpt');
await writeFile(ckptPath, rec.checkpoints.at(-1)!.bytes);
const model = await loadModel(ckptPath);
const pool = new ThreadPool({ kind: 'path', path: ckptPath }, 2);
after(() => pool.close());

async function compare(name: string, csv: string, step: number, batch: number): Promise<number> {
  const path = join(files.dir, name);
  await writeFile(path, csv);
  const outPath = join(files.dir, `${name}.out`);
  const progress: Array<[number, number]> = [];
  const r = await classifyFile(model, step, batch, { file_id: name, path, outPath }, (d, n) => void progress.push([d, n]));
  const expected = await predictWindowsFromCheckpoint(model, [{ file_id: name, path }], { stepSize: step });
  const rows = expected.map((p) => [p.timestamp.includes(',') ? `"${p.timestamp}"` : p.timestamp, p.prediction, ...model.labels.map((l) => String(p.probabilities[l]))].join(','));
  const text = await readFile(outPath, 'utf8');
  assert.equal(text, [outputHeader(model).join(','), ...rows].join('\n') + '\n', `${name} step ${step} batch ${batch}`);
  assert.equal(r.windows, expected.length);
  assert.deepEqual(progress.at(-1), [r.windows, r.windows], 'the last progress has the real total');
  const pooledProgress: Array<[number, number]> = [];
  const pooled = await classifyFile(model, step, batch, { file_id: name, path, outPath: `${outPath}.pooled` }, (d, n) => void pooledProgress.push([d, n]), pool);
  assert.equal(await readFile(`${outPath}.pooled`, 'utf8'), text, `${name} step ${step} batch ${batch}: pooled output`);
  assert.deepEqual([pooled, pooledProgress], [r, progress], 'pooled result and progress');
  return r.windows;
}

test('streamed classification equals whole-file prediction', async () => {
  // Leading gaps in column a (backfilled), inner gaps in b every 17 rows, a quoted timestamp.
  const lines = syntheticCsv(1, 300, 5, { missing: true }).split('\n');
  for (let i = 1; i <= 40; i++) lines[i] = lines[i]!.replace(/^([^,]*),[^,]*,/, '$1,,');
  lines[3] = lines[3]!.replace(/^[^,]*/, '"2020-01-01, quoted"');
  const csv = lines.join('\n');
  for (const [step, batch] of [[4, 7], [32, 256], [50, 3], [1, 64]] as const) await compare('gaps.csv', csv, step, batch);
  // Several 1 MiB pieces of lines: windows span the pieces' edges.
  const big = syntheticCsv(0, 60_000, 9);
  assert.ok(big.length > 2 << 20);
  assert.ok((await compare('big.csv', big, 16, 100)) > 3000);
  // Shorter than one window (which prediction refuses): no windows, the header only.
  const path = join(files.dir, 'short.csv');
  await writeFile(path, syntheticCsv(0, 10, 1));
  const r = await classifyFile(model, 4, 8, { file_id: 'short.csv', path, outPath: `${path}.out` });
  assert.equal(r.windows, 0);
  assert.equal(await readFile(`${path}.out`, 'utf8'), `${outputHeader(model).join(',')}\n`);
});

test('a bad cell part way fails with its line and column; no output is left', async () => {
  const lines = syntheticCsv(0, 3000, 2).split('\n');
  lines[2500] = lines[2500]!.replace(/,[^,]*$/, ',oops');
  const path = join(files.dir, 'bad.csv');
  await writeFile(path, lines.join('\n'));
  const outPath = join(files.dir, 'bad.out');
  await assert.rejects(classifyFile(model, 4, 16, { file_id: 'bad.csv', path, outPath }), (err: unknown) => {
    assert.ok(err instanceof InvalidDatasetError);
    assert.deepEqual([err.problem.file_id, err.problem.line, err.problem.column], ['bad.csv', 2501, 'c']);
    return true;
  });
  assert.equal(existsSync(outPath) || existsSync(`${outPath}.tmp`), false);
});
