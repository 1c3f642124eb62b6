/** Stop (mid-epoch, during evaluation, during knn embedding) and exact resume from a checkpoint. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TrainerMessage } from '../protocol.js';
import { timeseriesTrainer } from './index.js';
import { makeSpec, recordingCtx, writeSynthetic, type SynthFiles } from './test-helpers.js';

let files: SynthFiles;
before(async () => {
  files = await writeSynthetic(2, 300, 2);
});
after(() => rm(files.dir, { recursive: true, force: true }));

const typesAfter = (msgs: TrainerMessage[], i: number) => msgs.slice(i + 1).map((m) => m.type);

test('head: a stop mid-epoch starts no further step and no evaluation', async () => {
  let flipAt = -1;
  const rec = recordingCtx(makeSpec(files, 'head', { n_epochs: 5 }), (m, all) => {
    if (flipAt < 0 && m.type === 'progress' && m.epoch === 2) flipAt = all.length - 1;
    return flipAt >= 0;
  });
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'stopped');
  const progress = rec.messages[flipAt];
  assert.ok(progress?.type === 'progress' && progress.step < progress.total_steps);
  // Only the metrics report of the step that was running may follow.
  assert.deepEqual(typesAfter(rec.messages, flipAt), ['metrics']);
  assert.deepEqual(rec.checkpoints.map((c) => c.step), [1]);
  assert.equal(res.step, 1);
  assert.equal(res.metrics?.macro_f1, rec.checkpoints[0]!.metrics.macro_f1);
});

test('head: a stop during an evaluation lets it finish and checkpoint, then nothing else runs', async () => {
  let flipAt = -1;
  const rec = recordingCtx(makeSpec(files, 'head', { n_epochs: 5 }), (m, all) => {
    if (flipAt < 0 && m.type === 'eval_start') flipAt = all.length - 1;
    return flipAt >= 0;
  });
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'stopped');
  // Epoch 1 always improves on "nothing yet", so its evaluation commits a checkpoint.
  assert.deepEqual(typesAfter(rec.messages, flipAt), ['eval_end', 'checkpoint']);
  assert.deepEqual(rec.checkpoints.map((c) => c.step), [1]);
});

test('knn: a stop while embedding leaves no checkpoint', async () => {
  const rec = recordingCtx(makeSpec(files, 'knn', { batch_size: 64 }), (m) => m.type === 'progress');
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'stopped');
  assert.equal(rec.checkpoints.length, 0);
  assert.ok(!rec.messages.some((m) => m.type === 'finalizing' || m.type === 'eval_start'));
  assert.equal(rec.messages.filter((m) => m.type === 'progress').length, 1);
});

test('head: resuming from a checkpoint continues exactly like the uninterrupted run', async () => {
  const hp = { n_epochs: 5, patience: 100, hidden_units: 8 };
  const full = recordingCtx(makeSpec(files, 'head', hp));
  await timeseriesTrainer.train(full.ctx);
  const evals = (msgs: TrainerMessage[]) => msgs.flatMap((m) => (m.type === 'eval_end' ? [m] : []));
  assert.equal(evals(full.messages).length, 5);
  const first = full.checkpoints[0]!;
  assert.equal(first.step, 1);
  const path = join(files.dir, 'resume-from.bin');
  await writeFile(path, first.bytes);
  const spec = { ...makeSpec(files, 'head', hp), resume: { checkpoint_id: 'ckp_test', step: 1, path } };
  const resumed = recordingCtx(spec);
  const res = await timeseriesTrainer.train(resumed.ctx);
  assert.equal(res.reason, 'completed');
  assert.deepEqual(evals(resumed.messages), evals(full.messages).slice(1));
  assert.deepEqual(resumed.checkpoints.map((c) => c.step), full.checkpoints.slice(1).map((c) => c.step));
  resumed.checkpoints.forEach((c, i) => assert.ok(c.bytes.equals(full.checkpoints[i + 1]!.bytes), `checkpoint ${c.step} bytes`));
  const firstProgress = resumed.messages.find((m) => m.type === 'progress' && m.step > 0);
  assert.ok(firstProgress?.type === 'progress' && firstProgress.epoch === 2);
});

test('knn: a resumed job finalizes from its checkpoint without writing another', async () => {
  const first = recordingCtx(makeSpec(files, 'knn'));
  await timeseriesTrainer.train(first.ctx);
  const path = join(files.dir, 'knn-resume.bin');
  await writeFile(path, first.checkpoints[0]!.bytes);
  const rec = recordingCtx({ ...makeSpec(files, 'knn'), resume: { checkpoint_id: 'ckp_knn', step: 1, path } });
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.deepEqual([res.reason, res.step, rec.checkpoints.length], ['completed', 1, 0]);
  assert.deepEqual(res.metrics, first.checkpoints[0]!.metrics);
});
