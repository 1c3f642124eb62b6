/**
 * knn checkpoint versions: the trainer writes version 2 (int8 vectors, knn_codes + knn_scales, about a
 * quarter of the float32 size) and its reported metrics are the checkpoint's; a version-1 checkpoint
 * (float32 knn_embeddings, the format before int8) still loads and predicts exactly what the float32
 * search computes; an unknown version is refused with a message naming it; head checkpoints stay
 * version 1.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { decodeContainer, encodeContainer } from './checkpoint.js';
import { timeseriesTrainer } from './index.js';
import { buildKnn, knnProba } from './knn.js';
import { deserializeModel, predictProba, serializeModel } from './model.js';
import { makeSpec, recordingCtx, writeSynthetic } from './test-helpers.js';
import { evalMetrics } from './metrics.js';
import { applyChannelStats, identity, WindowSet } from './windows.js';
import { readSeriesFile } from './reader.js';

const files = await writeSynthetic(3, 300, 2);
after(() => rmSync(files.dir, { recursive: true, force: true }));

const rec = recordingCtx(makeSpec(files, 'knn', { n_neighbors: 3 }));
const res = await timeseriesTrainer.train(rec.ctx);
const bytes = Buffer.from(rec.checkpoints[0]!.bytes);
const v2 = deserializeModel(bytes);

test('the knn trainer writes version 2 with int8 vectors, and its metrics are the checkpoint\'s', () => {
  const { meta, tensors } = decodeContainer(bytes);
  assert.equal(meta.version, 2);
  assert.ok(tensors.knn_codes instanceof Int8Array && !('knn_embeddings' in tensors));
  assert.equal(tensors.knn_codes.length, v2.knn!.n * v2.knn!.dim);
  assert.ok(v2.knn!.q8 && v2.knn!.embeddings === null);
  assert.equal(serializeModel(v2).equals(bytes), true, 'a loaded version-2 checkpoint serializes to the same bytes');
  assert.ok(res.metrics!.macro_f1! >= 0.95);
});

test('a version-1 (float32) knn checkpoint loads and predicts as the float32 search does', async () => {
  // Version 1 as the trainer wrote it before int8: the same model with float32 rows in knn_embeddings.
  const src = files.train[0]!;
  const s = await readSeriesFile(src.path, src.file_id, { dataColumns: v2.reader.dataColumns, timestampColumn: v2.reader.timestampColumn, minRows: 32 });
  applyChannelStats(s, v2.channelStats);
  const ws = new WindowSet([s], v2.reader.windowSize, v2.reader.stepSize);
  const q8 = v2.knn!.q8!;
  const rows = new Float32Array(q8.n * q8.d);
  for (let i = 0; i < q8.n; i++) for (let c = 0; c < q8.d; c++) rows[i * q8.d + c] = q8.codes[i * q8.dPad + c]! * q8.scale[i]!;
  const f32 = buildKnn(v2.knn!.settings, rows, q8.n, q8.d, v2.knn!.labels, v2.knn!.nClasses);
  const v1Bytes = serializeModel({ ...v2, knn: f32 });
  const { meta, tensors } = decodeContainer(v1Bytes);
  assert.equal(meta.version, 1);
  assert.ok(tensors.knn_embeddings instanceof Float32Array && !('knn_codes' in tensors));
  const v1 = deserializeModel(v1Bytes);
  assert.ok(v1.knn!.embeddings && !v1.knn!.q8);
  const got = await predictProba(v1, ws, identity(ws.count));
  // The float32 search on the same rows, called directly.
  const emb = await import('./encoder.js').then((e) => e.embedWindows(ws, identity(ws.count), v1.encoder));
  assert.deepEqual(got, knnProba(f32, emb!, ws.count));
  // And the int8 model agrees with it on (nearly) every window of this easy problem.
  const q = await predictProba(v2, ws, identity(ws.count));
  const y = new Int32Array(ws.count).fill(v2.labels.indexOf(src.label!));
  assert.ok(evalMetrics(q, y, 3).accuracy >= evalMetrics(got, y, 3).accuracy - 0.05);
});

test('an unknown version is refused with a message naming it; a head checkpoint stays version 1', async () => {
  const { meta, tensors } = decodeContainer(bytes);
  const future = encodeContainer({ ...meta, version: 3 }, tensors);
  assert.throws(() => deserializeModel(future), /ftnode-timeseries checkpoint version 3: this ftnode reads versions 1 and 2/);
  const head = recordingCtx(makeSpec(files, 'head', { n_epochs: 1 }));
  await timeseriesTrainer.train(head.ctx);
  assert.equal(decodeContainer(Buffer.from(head.checkpoints[0]!.bytes)).meta.version, 1);
});
