/**
 * The head's automatic choice (select.ts): the later block is each file's last quarter of rows and
 * shares no row with the earlier part; a request without encoder / width keys runs the choice from
 * the training files only (the same choice whatever the validation files hold), reports it in the
 * hyperparameters message and the checkpoint header, and a resumed run keeps it; a request that sets
 * hidden_units gets no choice and no `selection` header key.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeContainer } from './checkpoint.js';
import { timeseriesTrainer } from './index.js';
import type { Series } from './reader.js';
import { blockedSplit, CANDIDATES, HELD_OUT_FRACTION, KNN_CANDIDATES } from './select.js';
import { deserializeModel } from './model.js';
import { makeSpec, recordingCtx, writeSynthetic, type SynthFiles } from './test-helpers.js';

let files: SynthFiles;
before(async () => {
  files = await writeSynthetic(2, 300, 2);
});
after(() => rm(files.dir, { recursive: true, force: true }));

/** No num_features (makeSpec's default): the request fixes nothing, so the trainer chooses. */
const AUTO = { num_features: undefined, n_epochs: 3 };

/**
 * Trains with the automatic choice on; checks that it was made and reported (a `log` line per
 * candidate and one for the winner, `selection: automatic`); the hyperparameters and checkpoint header.
 */
async function trainChoosing(method: 'head' | 'knn', hp: Record<string, unknown>, nCandidates: number) {
  const rec = recordingCtx(makeSpec(files, method, hp));
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'completed');
  const msg = rec.messages.find((m) => m.type === 'hyperparameters');
  assert.ok(msg?.type === 'hyperparameters');
  assert.equal(msg.values.selection, 'automatic');
  const logs = rec.messages.flatMap((m) => (m.type === 'log' ? [m.message] : [])).filter((m) => m.startsWith('automatic choice'));
  assert.equal(logs.length, nCandidates + 1, logs.join('\n'));
  const { meta } = decodeContainer(rec.checkpoints[0]!.bytes) as { meta: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  return { rec, res, hp: msg, meta };
}

test('blockedSplit: the latest quarter of each file is held out, rows disjoint, order kept', () => {
  const T = 200;
  const mk = (id: string): Series => ({ fileId: id, columns: ['a', 'b'], timestamps: [], length: T, data: Float32Array.from({ length: 2 * T }, (_, i) => i) });
  const split = blockedSplit([mk('x'), mk('y')], [0, 1], 2, 32);
  assert.ok(typeof split !== 'string');
  const held = Math.round(T * HELD_OUT_FRACTION);
  assert.equal(split.heldRows, 2 * held);
  const fit = split.fit[0]!;
  const later = split.held[0]!;
  assert.deepEqual([fit.length, later.length], [T - held, held]);
  // Channel b of the earlier part ends at row T - held - 1; the later block starts at row T - held.
  assert.equal(fit.data[2 * fit.length - 1], T + T - held - 1);
  assert.equal(later.data[later.length], T + T - held);
  // A class whose only file is too short for two windows: no later block, so no choice.
  const short: Series = { ...mk('s'), length: 40, data: new Float32Array(80) };
  assert.match(String(blockedSplit([mk('x'), short], [0, 1], 2, 32)), /class 1 has no training file/);
});

test('defaults: the trainer chooses from the training files only and reports the choice; resume keeps it', async () => {
  const { rec, hp, meta } = await trainChoosing('head', AUTO, CANDIDATES.length);
  assert.equal(meta.selection.scores.length, CANDIDATES.length);
  assert.equal(meta.selection.hidden_units, hp.values.hidden_units);
  assert.equal(meta.head.hidden, meta.selection.hidden_units);
  assert.equal(meta.encoder.window_stats === true, meta.selection.encoder === 'window_stats');
  assert.equal(meta.version, 1);

  // Validation files swapped for other files: the same choice and the same candidate scores.
  const swapped = makeSpec(files, 'head', AUTO);
  swapped.datasets[1] = { ...swapped.datasets[1]!, files: [files.train[1]!, files.train[3]!] };
  const rec2 = recordingCtx(swapped);
  await timeseriesTrainer.train(rec2.ctx);
  const hp2 = rec2.messages.find((m) => m.type === 'hyperparameters');
  assert.ok(hp2?.type === 'hyperparameters');
  assert.equal(hp2.values.selection_scores, hp.values.selection_scores);

  // A resumed run keeps the stored model's encoder, width and choice (and makes no new one).
  const path = join(files.dir, 'auto-resume.bin');
  await writeFile(path, rec.checkpoints[0]!.bytes);
  const resumed = recordingCtx({ ...makeSpec(files, 'head', { ...AUTO, n_epochs: 4 }), resume: { checkpoint_id: 'ckp_a', step: rec.checkpoints[0]!.step, path } });
  await timeseriesTrainer.train(resumed.ctx);
  assert.ok(!resumed.messages.some((m) => m.type === 'log' && m.message.startsWith('automatic choice')));
  const hp3 = resumed.messages.find((m) => m.type === 'hyperparameters');
  assert.ok(hp3?.type === 'hyperparameters');
  assert.equal(hp3.values.hidden_units, hp.values.hidden_units);
  assert.equal(hp3.values.selection_scores, hp.values.selection_scores);
  for (const c of resumed.checkpoints) assert.deepEqual((decodeContainer(c.bytes).meta as Record<string, unknown>).selection, meta.selection);
});

test('a request that sets hidden_units gets the fixed defaults, no choice, no selection header', async () => {
  const rec = recordingCtx(makeSpec(files, 'head', { num_features: undefined, hidden_units: 8, n_epochs: 2 }));
  await timeseriesTrainer.train(rec.ctx);
  const hp = rec.messages.find((m) => m.type === 'hyperparameters');
  assert.ok(hp?.type === 'hyperparameters');
  assert.equal(hp.values.selection, undefined);
  assert.equal(hp.values.num_features, 9996);
  const meta = decodeContainer(rec.checkpoints[0]!.bytes).meta as Record<string, unknown>;
  assert.equal('selection' in meta, false);
});

test('knn with no encoder keys chooses its encoder the same way, says so, and its checkpoint keeps and predicts with it', async () => {
  const { rec, res, hp, meta } = await trainChoosing('knn', { num_features: undefined, n_neighbors: 3 }, KNN_CANDIDATES.length);
  assert.deepEqual(meta.selection.scores.map((c: { encoder: string }) => c.encoder), ['window_stats', 'minirocket']);
  assert.equal(hp.values.encoder, meta.selection.encoder);
  const model = deserializeModel(Buffer.from(rec.checkpoints[0]!.bytes));
  assert.equal(model.encoder.windowStats === true, meta.selection.encoder === 'window_stats');
  // The number of features the event reports is the stored encoder's: 3 per column (2 here) or MiniRocket's 1,008.
  assert.equal(hp.values.num_features, model.encoder.rocket.nFeatures);
  assert.ok(res.metrics!.macro_f1! >= 0.9, `macro-F1 ${res.metrics!.macro_f1}`);
});
