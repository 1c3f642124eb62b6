/**
 * Head training with the hidden units split over threads (head-pool.ts) gives checkpoints
 * byte-identical to one thread: 2 threads (blocks 0–7, 8–15) and 3 threads on 10 units (blocks
 * 0–3, 4–7, 8–9: a block narrower than the kernels' 4-unit tile), every checkpoint of the run, and
 * a resumed run on 2 threads continues exactly as the uninterrupted 1-thread run.
 * The pool is forced on these small heads (setHeadThreads(n, 0)); SWaT-sized heads use it by default.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { headThreadsStarted, setHeadThreads } from './head-pool.js';
import { timeseriesTrainer } from './index.js';
import { makeSpec, recordingCtx, writeSynthetic, type SynthFiles } from './test-helpers.js';

let files: SynthFiles;
before(async () => {
  files = await writeSynthetic(3, 300, 2);
});
after(async () => {
  setHeadThreads(1);
  await rm(files.dir, { recursive: true, force: true });
});

interface Run { checkpoints: Buffer[]; evals: Array<Record<string, number>> }

async function run(threads: number, hp: Record<string, unknown>, resume?: { bytes: Buffer; step: number }): Promise<Run> {
  setHeadThreads(threads, 0);
  const spec = makeSpec(files, 'head', hp);
  if (resume) {
    const path = join(files.dir, `resume-${threads}-${resume.step}.bin`);
    await writeFile(path, resume.bytes);
    spec.resume = { checkpoint_id: `ckp_${resume.step}`, path, step: resume.step };
  }
  const rec = recordingCtx(spec);
  const res = await timeseriesTrainer.train(rec.ctx);
  assert.equal(res.reason, 'completed');
  // Every evaluation's loss is a float over all validation windows: a changed weight shows there.
  return { checkpoints: rec.checkpoints.map((c) => c.bytes), evals: rec.messages.flatMap((m) => (m.type === 'eval_end' ? [m.metrics] : [])) };
}

test('2 and 3 threads give the checkpoints of 1 thread, byte for byte', async () => {
  for (const [hidden, threads] of [[16, 2], [10, 3]] as const) {
    const hp = { hidden_units: hidden, n_epochs: 4, batch_size: 15, patience: 100 };
    const before = headThreadsStarted();
    const one = await run(1, hp);
    assert.equal(headThreadsStarted(), before, '1 thread: no pool');
    const many = await run(threads, hp);
    assert.equal(headThreadsStarted(), before + threads - 1, `${threads} threads: ${threads - 1} workers beside the main thread`);
    assert.equal(one.evals.length, 4);
    assert.deepEqual(many.evals, one.evals, `${hidden} units on ${threads} threads: the same evaluations`);
    assert.ok(one.checkpoints.length >= 1);
    assert.equal(many.checkpoints.length, one.checkpoints.length, `${hidden} units on ${threads} threads: as many checkpoints`);
    many.checkpoints.forEach((b, i) => assert.ok(b.equals(one.checkpoints[i]!), `${hidden} units on ${threads} threads: checkpoint ${i} differs`));
  }
});

test('a resumed run on 2 threads continues the 1-thread run exactly', async () => {
  const hp = { hidden_units: 16, n_epochs: 5, batch_size: 16, patience: 100 };
  const full = await run(1, hp);
  const resumed = await run(2, hp, { bytes: full.checkpoints[0]!, step: 1 });
  assert.equal(full.evals.length, 5);
  assert.deepEqual(resumed.evals, full.evals.slice(1));
  assert.equal(resumed.checkpoints.length, full.checkpoints.length - 1);
  resumed.checkpoints.forEach((b, i) => assert.ok(b.equals(full.checkpoints[i + 1]!), `checkpoint ${i + 1} differs`));
});
