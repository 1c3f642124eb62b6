/**
 * knn checkpoint versions: the trainer writes version 3 (int8 vectors, knn_codes + knn_scales, about a
 * quarter of the float32 size, and the PCA basis knn_basis_codes) and its reported metrics are the
 * checkpoint's; the same model without its basis is version 2 (the format before the basis), loads
 * and predicts exactly the same probabilities through the full int8 search; a version-1 checkpoint
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
const v3 = deserializeModel(bytes);
// Version 2 as the trainer wrote it before the basis: the same int8 model without knn_basis_*.
const v2Bytes = serializeModel({ ...v3, knn: { ...v3.knn!, basis: null, projected: undefined } });
const v2 = deserializeModel(v2Bytes);

test('the knn trainer writes version 3 with int8 vectors and their basis, and its metrics are the checkpoint\'s', () => {
  const { meta, tensors } = decodeContainer(bytes);
  assert.equal(meta.version, 3);
  assert.ok(tensors.knn_codes instanceof Int8Array && !('knn_embeddings' in tensors));
  assert.equal(tensors.knn_codes.length, v3.knn!.n * v3.knn!.dim);
  const P = (meta.knn as { basis_rows: number }).basis_rows;
  assert.ok(P >= 16 && P % 16 === 0 && tensors.knn_basis_codes instanceof Int8Array && tensors.knn_basis_codes.length === P * v3.knn!.dim);
  assert.ok(v3.knn!.q8 && v3.knn!.embeddings === null && v3.knn!.basis && v3.knn!.projected);
  assert.equal(serializeModel(v3).equals(bytes), true, 'a loaded version-3 checkpoint serializes to the same bytes');
  assert.ok(res.metrics!.macro_f1! >= 0.95);
});

test('version 2 (no basis) loads, is searched in full, and predicts exactly what version 3 predicts', async () => {
  const { meta, tensors } = decodeContainer(v2Bytes);
  assert.equal(meta.version, 2);
  assert.ok(!('knn_basis_codes' in tensors) && !('basis_rows' in (meta.knn as object)));
  assert.ok(v2.knn!.q8 && !v2.knn!.basis);
  assert.equal(serializeModel(v2).equals(v2Bytes), true);
  for (const f of [...files.train, ...files.val]) {
    const s = await readSeriesFile(f.path, f.file_id, { dataColumns: v3.reader.dataColumns, timestampColumn: v3.reader.timestampColumn, minRows: 32 });
    applyChannelStats(s, v3.channelStats);
    const ws = new WindowSet([s], v3.reader.windowSize, 1);
    assert.deepEqual(await predictProba(v3, ws, identity(ws.count)), await predictProba(v2, ws, identity(ws.count)), f.file_id);
  }
  // A cut basis is refused with a clear message rather than searched with wrong bounds.
  const v3c = decodeContainer(bytes);
  const cut = encodeContainer(v3c.meta, { ...v3c.tensors, knn_basis_codes: new Int8Array(16) });
  assert.throws(() => deserializeModel(cut), /version-3 checkpoint lacks i8 tensor knn_basis_codes/);
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
  const future = encodeContainer({ ...meta, version: 4 }, tensors);
  assert.throws(() => deserializeModel(future), /ftnode-timeseries checkpoint version 4: this ftnode reads versions 1, 2 and 3/);
  const head = recordingCtx(makeSpec(files, 'head', { n_epochs: 1 }));
  await timeseriesTrainer.train(head.ctx);
  assert.equal(decodeContainer(Buffer.from(head.checkpoints[0]!.bytes)).meta.version, 1);
});
