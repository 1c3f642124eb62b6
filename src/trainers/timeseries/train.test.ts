/** Head and knn learn a generated 3-class multichannel problem; checkpoints predict identically. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCheckpointInfo, timeseriesTrainer } from './index.js';
import { macroF1 } from './metrics.js';
import { deserializeModel, serializeModel } from './model.js';
import { predictWindowsFromCheckpoint } from './predict.js';
import { makeSpec, recordingCtx, syntheticCsv, writeSynthetic, type SynthFiles } from './test-helpers.js';

let files: SynthFiles;
before(async () => {
  files = await writeSynthetic(3, 300, 2);
});
after(() => rm(files.dir, { recursive: true, force: true }));

/** Predicts the validation files from checkpoint bytes and scores them like the trainer does. */
async function scoreCheckpoint(bytes: Buffer, name: string): Promise<{ f1: number; accuracy: number; preds: Awaited<ReturnType<typeof predictWindowsFromCheckpoint>> }> {
  const path = join(files.dir, name);
  await writeFile(path, bytes);
  const preds = await predictWindowsFromCheckpoint(path, files.val);
  const labels = ['class0', 'class1', 'class2'];
  const truth = preds.map((p) => labels.indexOf(files.val.find((f) => f.file_id === p.file_id)!.label));
  const pred = preds.map((p) => labels.indexOf(p.prediction));
  const accuracy = truth.filter((t, i) => t === pred[i]).length / truth.length;
  return { f1: macroF1(truth, pred, 3), accuracy, preds };
}

test('head learns the synthetic problem; checkpoints improve; the best checkpoint reproduces its metrics', async () => {
  const rec = recordingCtx(makeSpec(files, 'head'));
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'completed');
  assert.ok(res.metrics!.macro_f1! >= 0.95, `macro-F1 ${res.metrics!.macro_f1}`);
  const types = rec.messages.map((m) => m.type);
  assert.equal(types[0], 'hyperparameters');
  assert.ok(types.includes('progress') && types.includes('metrics') && types.includes('eval_start'));
  assert.equal(types.filter((t) => t === 'finalizing').length, 1);
  const f1s = rec.checkpoints.map((c) => c.metrics.macro_f1!);
  assert.ok(f1s.every((f, i) => i === 0 || f > f1s[i - 1]!), 'a checkpoint only when macro-F1 improves');
  assert.deepEqual(rec.checkpoints.map((c) => c.name), rec.checkpoints.map((c) => `step_${c.step}`));
  const best = rec.checkpoints[rec.checkpoints.length - 1]!;
  assert.equal(best.metrics.macro_f1, res.metrics!.macro_f1);
  // Loading the checkpoint predicts exactly what the trainer evaluated in memory.
  const scored = await scoreCheckpoint(best.bytes, 'head-best.bin');
  assert.equal(scored.f1, best.metrics.macro_f1);
  assert.equal(scored.accuracy, best.metrics.accuracy);
  // And encoding is stable: decode → encode gives the same bytes.
  assert.deepEqual(serializeModel(deserializeModel(best.bytes)), best.bytes);
  const info = await readCheckpointInfo(join(files.dir, 'head-best.bin'));
  assert.deepEqual([info.method, info.labels, info.reader, info.stand_in], ['head', ['class0', 'class1', 'class2'], { window_size: 32, step_size: 4, data_columns: ['a', 'b', 'c'], timestamp_column: 'timestamp' }, true]);
  const p0 = scored.preds[0]!;
  assert.equal(p0.window_index, 0);
  assert.equal(p0.timestamp, '2020-01-01 00:00:31'); // last row of the first 32-row window
  assert.ok(Math.abs(Object.values(p0.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-5);
});

test('a one-hidden-layer head learns it too', async () => {
  const rec = recordingCtx(makeSpec(files, 'head', { hidden_units: 16, n_epochs: 4, batch_size: 16 }));
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.ok(res.metrics!.macro_f1! >= 0.95, `macro-F1 ${res.metrics!.macro_f1}`);
  const hp = rec.messages.find((m) => m.type === 'hyperparameters');
  assert.deepEqual([hp?.type === 'hyperparameters' && hp.values.batch_size, hp?.type === 'hyperparameters' && hp.values.n_epochs], [16, 4]);
  const scored = await scoreCheckpoint(rec.checkpoints[rec.checkpoints.length - 1]!.bytes, 'mlp.bin');
  assert.equal(scored.f1, res.metrics!.macro_f1);
});

for (const [metric, weights] of [['cosine', 'uniform'], ['euclidean', 'distance']] as const) {
  test(`knn (${metric}, ${weights}) classifies the synthetic problem; one checkpoint that reproduces its metrics`, async () => {
    const rec = recordingCtx(makeSpec(files, 'knn', { metric, weights, n_neighbors: 3, normalize_embeddings: false }));
    const res = await timeseriesTrainer.train(rec.ctx);
    assert.equal(res.reason, 'completed');
    assert.ok(res.metrics!.macro_f1! >= 0.95, `macro-F1 ${res.metrics!.macro_f1}`);
    assert.equal(rec.checkpoints.length, 1);
    assert.equal(rec.checkpoints[0]!.name, 'step_1');
    const types = rec.messages.map((m) => m.type);
    assert.ok(types.indexOf('finalizing') < types.indexOf('eval_start'));
    const scored = await scoreCheckpoint(rec.checkpoints[0]!.bytes, `knn-${metric}.bin`);
    assert.equal(scored.f1, res.metrics!.macro_f1);
    assert.equal(scored.accuracy, res.metrics!.accuracy);
  });
}

test('predict() takes JSON rows and uses the stored window; too few rows is an invalid dataset', async () => {
  const rec = recordingCtx(makeSpec(files, 'knn'));
  await timeseriesTrainer.train(rec.ctx);
  const path = join(files.dir, 'rows.bin');
  await writeFile(path, rec.checkpoints[0]!.bytes);
  // The same generator as the files (class 0), given as JSON rows: numbers and numeric strings.
  const rows = syntheticCsv(0, 40, 555).trim().split('\n').slice(1).map((line, t) => {
    const [, a, b, c] = line.split(',');
    return { timestamp: `r${t}`, a: Number(a), b: b!, c: Number(c) };
  });
  const preds = await timeseriesTrainer.predict(path, { rows });
  assert.equal(preds.length, 3); // windows of 32 at step 4 over 40 rows: starts 0, 4, 8
  assert.deepEqual(preds.map((p) => p.timestamp), ['r31', 'r35', 'r39']);
  assert.ok(preds.every((p) => p.prediction === 'class0'), JSON.stringify(preds.map((p) => p.prediction)));
  await assert.rejects(timeseriesTrainer.predict(path, { rows: rows.slice(0, 10) }), /at least 32/);
});
