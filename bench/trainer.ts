/**
 * The built-in text trainer (text-sft) on the example dataset, run as the worker runs it: the real
 * child process (node dist/src/trainers/main.js) spawned through src/worker/trainer-process.ts
 * (own process group, start spec on stdin, protocol messages on stdout), `--runs` times (default 5).
 * Per run:
 *   - training throughput: example visits / s of the training loop, as the trainer reports it
 *     (`trained N examples in X s`: the loop only, periodic evaluations and checkpoints included),
 *     and end to end: example visits / (spawn → exit);
 *   - phases from message arrival times: spawn → hello, hello → hyperparameters (read + parse +
 *     featurise + model allocation), → finalizing (training loop), → done (final eval + checkpoint),
 *     → exit;
 *   - peak RSS of the trainer process: the kernel's VmHWM from /proc/<pid>/status, sampled every 5 ms
 *     (VmHWM is a high-water mark, so a spike between samples is not lost).
 * Baselines in the same run: (a) throughput — the same examples only parsed + featurised (the
 *   trainer's own scanDatasets + featurize, in this process, best of rounds after a warm-up): a
 *   training visit costs a sparse FTRL update over every class, featurising is the cost of merely
 *   reading one example, so "visits/s ÷ featurised/s" says how many example-reads one training visit
 *   costs; (b) memory — the VmHWM of a bare `node -e` child, sampled the same way.
 *   node dist/bench/trainer.js [--runs 5] [--scale 1] [--train FILE] [--eval FILE] [--seed 1] [--json FILE]
 * `--scale k` trains on the train file repeated k times (a bigger n: the hyperparameter rule then
 * picks larger batches and fewer epochs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAINER_ENTRY } from '../src/app/app.js';
import type { TrainerMessage, TrainerSpec } from '../src/trainers/protocol.js';
import { scanDatasets } from '../src/trainers/text-sft/dataset.js';
import { featurize, hashDimFor } from '../src/trainers/text-sft/features.js';
import { TrainerProcess } from '../src/worker/trainer-process.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { sampleMemory } from './lib/proc.js';
import { int, maxOf, median, ms, ratio, table } from './lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ → repository root
const opts = parseArgs({
  runs: 5,
  scale: 1,
  train: join(REPO, 'examples/datasets/sensor-sft-train.jsonl'),
  eval: join(REPO, 'examples/datasets/sensor-sft-eval.jsonl'),
  seed: 1,
  json: '',
});

interface RunResult {
  visits: number;
  loopSeconds: number;
  loopRate: number; // visits / s, trainer-reported
  endToEndRate: number;
  phases: { spawnToHello: number; load: number; loop: number; final: number; exit: number; total: number }; // ms
  peakHwmMiB: number;
  peakRssMiB: number;
  samples: number;
  hyperparameters: Record<string, unknown>;
  evalAccuracy: number | undefined;
  checkpoints: number;
}

async function runTrainer(spec: TrainerSpec): Promise<RunResult> {
  const t: Record<string, number> = {};
  let hp: Record<string, unknown> = {};
  let visits = NaN, loopSeconds = NaN, evalAccuracy: number | undefined, checkpoints = 0;
  const errors: string[] = [];
  const t0 = performance.now();
  const proc = new TrainerProcess([process.execPath, TRAINER_ENTRY], spec, process.env, async (m: TrainerMessage) => {
    const now = performance.now();
    if (t[m.type] === undefined) t[m.type] = now;
    if (m.type === 'hyperparameters') hp = m.values;
    if (m.type === 'checkpoint') checkpoints++;
    if (m.type === 'error') errors.push(`${m.code}: ${m.message}`);
    if (m.type === 'done') evalAccuracy = m.metrics?.eval_accuracy;
    if (m.type === 'log') {
      const r = /trained (\d+) examples in ([\d.]+) s/.exec(m.message);
      if (r) (visits = Number(r[1])), (loopSeconds = Number(r[2]));
    }
  }, (line) => errors.push(line));
  const mem = sampleMemory(proc.pid!, 5);
  const exit = await proc.exited;
  const tExit = performance.now();
  const m = mem.stop();
  if (exit.code !== 0 || t.done === undefined) throw new Error(`trainer exited ${exit.code} (${exit.signal}): ${errors.join('; ')}`);
  const total = tExit - t0;
  return {
    visits, loopSeconds, loopRate: visits / loopSeconds, endToEndRate: visits / (total / 1000),
    phases: { spawnToHello: t.hello! - t0, load: t.hyperparameters! - t.hello!, loop: t.finalizing! - t.hyperparameters!, final: t.done! - t.finalizing!, exit: tExit - t.done!, total },
    peakHwmMiB: m.peakHwmKiB / 1024, peakRssMiB: m.peakRssKiB / 1024, samples: m.samples, hyperparameters: hp, evalAccuracy, checkpoints,
  };
}

/** Examples parsed + featurised per second (the trainer's own code, in this process), best of rounds. */
async function featuriseRate(spec: TrainerSpec, classes: number): Promise<{ examples: number; rate: number; featuriseOnlyRate: number }> {
  const dim = hashDimFor(classes);
  let best = 0, bestFeat = 0, examples = 0;
  for (let round = 0; round < 6; round++) {
    const t0 = performance.now();
    const all: string[] = [];
    await scanDatasets(spec.datasets, 1, (_split, e) => all.push(e.text));
    const t1 = performance.now();
    for (const text of all) featurize(text, dim);
    const t2 = performance.now();
    examples = all.length;
    if (round === 0) continue; // warm-up
    best = Math.max(best, all.length / ((t2 - t0) / 1000));
    bestFeat = Math.max(bestFeat, all.length / ((t2 - t1) / 1000));
  }
  return { examples, rate: best, featuriseOnlyRate: bestFeat };
}

/** VmHWM of a bare node child that does nothing for 300 ms, sampled like the trainer. */
async function bareNodeHwm(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300)'], { stdio: 'ignore' });
  const mem = sampleMemory(child.pid!, 5);
  await new Promise((r) => child.once('exit', r));
  return mem.stop().peakHwmKiB / 1024;
}

async function main(): Promise<void> {
  console.log(`trainer: ${machineLine()}`);
  console.log(`options: ${JSON.stringify(opts)}`);
  const tmp = mkdtempSync(join(tmpdir(), 'ftnode-bench-trainer-'));
  try {
    let trainFile = opts.train;
    if (opts.scale !== 1) {
      const text = readFileSync(opts.train, 'utf8').trimEnd() + '\n';
      trainFile = join(tmp, 'train-scaled.jsonl');
      writeFileSync(trainFile, text.repeat(Math.max(1, Math.round(opts.scale))));
    }
    const spec = (work_dir: string): TrainerSpec => ({
      protocol: 1, job_id: 'ftj-bench-trainer', attempt: 1, model: 'Newton::c2_4_7b_251215a172f6d7', trainer: 'text-sft', config: {},
      datasets: [
        { name: 'train', split: 'train', files: [{ file_id: 'train.jsonl', path: trainFile }] },
        ...(opts.eval ? [{ name: 'eval', split: 'eval' as const, files: [{ file_id: 'eval.jsonl', path: opts.eval }] }] : []),
      ],
      work_dir, resume: null, seed: opts.seed,
    });

    const runs: RunResult[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const dir = mkdtempSync(join(tmp, 'work-'));
      const r = await runTrainer(spec(dir));
      runs.push(r);
      console.log(`  run ${i + 1}: ${int(r.visits)} visits in ${r.loopSeconds.toFixed(2)} s → ${int(r.loopRate)} visits/s (loop), ${int(r.endToEndRate)}/s end to end (${ms(r.phases.total, 0)} ms); peak RSS ${r.peakHwmMiB.toFixed(1)} MiB; eval accuracy ${r.evalAccuracy}`);
      rmSync(dir, { recursive: true, force: true });
    }
    const hp = runs[0]!.hyperparameters;
    const classes = Number(hp.classes ?? 4);
    const feat = await featuriseRate(spec(tmp), classes);
    const bareMiB = await bareNodeHwm();

    const loopRate = median(runs.map((r) => r.loopRate));
    const e2eRate = median(runs.map((r) => r.endToEndRate));
    const hwm = maxOf(runs.map((r) => r.peakHwmMiB));
    const phase = (k: keyof RunResult['phases']): string => ms(median(runs.map((r) => r.phases[k])), 0);
    console.log(`\ntext-sft on ${hp.train_examples} train + ${hp.eval_examples} eval examples, ${hp.classes} classes, ${hp.epochs} epochs × ${hp.steps_per_epoch} steps of ${hp.batch_size}, hash dim ${hp.hash_dim}; median of ${opts.runs} runs`);
    console.log(`phases (median ms): spawn → hello ${phase('spawnToHello')}, load+featurise+alloc ${phase('load')}, training loop ${phase('loop')}, final eval+checkpoint ${phase('final')}, done → exit ${phase('exit')}, total ${phase('total')}`);
    console.log(table(['measure', 'trainer', 'baseline', 'ratio'], [
      ['examples/s: training loop (visits) vs parse+featurise only', int(loopRate), int(feat.rate), ratio(loopRate / feat.rate)],
      ['examples/s: end to end incl. spawn, load, final eval vs parse+featurise only', int(e2eRate), int(feat.rate), ratio(e2eRate / feat.rate)],
      ['examples/s: training loop vs featurise only (text already parsed)', int(loopRate), int(feat.featuriseOnlyRate), ratio(loopRate / feat.featuriseOnlyRate)],
      ['peak RSS MiB (VmHWM) vs bare node -e', hwm.toFixed(1), bareMiB.toFixed(1), ratio(hwm / bareMiB)],
    ]));
    const out = { bench: 'trainer', options: opts, hyperparameters: hp, runs, baseline: { parse_featurise_per_s: Math.round(feat.rate), featurise_only_per_s: Math.round(feat.featuriseOnlyRate), examples: feat.examples, bare_node_hwm_mib: +bareMiB.toFixed(1) }, median_loop_rate: Math.round(loopRate), median_end_to_end_rate: Math.round(e2eRate), peak_hwm_mib: +hwm.toFixed(1) };
    console.log(`RESULT ${JSON.stringify(out)}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e);
  process.exit(1);
});
