/**
 * The opt-in `encoder: "window_stats"` (per column mean, log std, log mean |Δx| instead of
 * MiniRocket): a head learns the synthetic problem with it, the checkpoint says so in its header and
 * predicts what the trainer reported; without the key the header is as before.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { timeseriesTrainer } from './index.js';
import { macroF1 } from './metrics.js';
import { deserializeModel } from './model.js';
import { predictWindowsFromCheckpoint } from './predict.js';
import { makeSpec, recordingCtx, writeSynthetic, type SynthFiles } from './test-helpers.js';
import { decodeContainer } from './checkpoint.js';

let files: SynthFiles;
before(async () => {
  files = await writeSynthetic(3, 300, 2);
});
after(() => rm(files.dir, { recursive: true, force: true }));

test('head on window statistics: learns, header names the encoder, the checkpoint predicts its own metrics', async () => {
  const rec = recordingCtx(makeSpec(files, 'head', { encoder: 'window_stats', hidden_units: 0 }));
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'completed');
  // Chance is 0.33. The generated files carry a random level offset each (±3 σ, only 2 files a
  // class), which the window means see; the mean |Δx| per period carries the class (0.72–0.75 here).
  assert.ok(res.metrics!.macro_f1! >= 0.6, `macro-F1 ${res.metrics!.macro_f1}`);
  const hp = rec.messages.find((m) => m.type === 'hyperparameters') as { values: Record<string, unknown> };
  assert.equal(hp.values.encoder, 'window_stats');
  assert.equal(hp.values.instance_norm, false);
  const best = rec.checkpoints[rec.checkpoints.length - 1]!;
  const meta = decodeContainer(best.bytes).meta as { encoder: Record<string, unknown>; version: number };
  assert.deepEqual(meta.encoder, { instance_norm: false, n_channels: 3, window_len: 32, n_features: 9, window_stats: true });
  assert.equal(meta.version, 1);
  const m = deserializeModel(best.bytes);
  assert.equal(m.encoder.windowStats, true);
  const path = join(files.dir, 'ws.ckpt');
  await writeFile(path, best.bytes);
  const preds = await predictWindowsFromCheckpoint(path, files.val);
  const labels = ['class0', 'class1', 'class2'];
  const truth = preds.map((p) => labels.indexOf(files.val.find((f) => f.file_id === p.file_id)!.label));
  assert.ok(Math.abs(macroF1(truth, preds.map((p) => labels.indexOf(p.prediction)), 3) - best.metrics.macro_f1!) < 1e-9);
});

test('without the key: MiniRocket, and the header has no window_stats field', async () => {
  const rec = recordingCtx(makeSpec(files, 'head', { n_epochs: 1, num_features: 84 * 2 }));
  await timeseriesTrainer.train(rec.ctx);
  const meta = decodeContainer(rec.checkpoints[0]!.bytes).meta as { encoder: Record<string, unknown> };
  assert.equal(meta.encoder.window_stats, undefined);
  assert.equal(meta.encoder.instance_norm, true);
  assert.equal(deserializeModel(rec.checkpoints[0]!.bytes).encoder.windowStats, undefined);
});

test('an unknown encoder name is a config problem', async () => {
  const rec = recordingCtx(makeSpec(files, 'head', { encoder: 'omega' }));
  await assert.rejects(timeseriesTrainer.train(rec.ctx), /encoder: must be one of minirocket, window_stats/);
});
