/**
 * SWaT few-shot protocol (npm run bench:swat-fewshot): the batch job a client runs with only
 * `worker.n_shots` (swat_attack_nshot_0.csv, swat_normal_nshot_0.csv) and no checkpoint, over the
 * client's grid window {16,32,64,128} × n_neighbors {3,5,7,11,15} × metric {cosine, euclidean}.
 * Each config goes through the batch trainer's own settings parser and few-shot builder
 * (batch-msc/settings.ts, classifier.ts) and is scored with the prediction path batch classification
 * uses (predictProba), at the default step 4, on the files matching --score (default: tune and
 * train_0..3, which all lie later in time than the n_shot files). Nothing is fitted on them.
 *   node dist/bench/swat-fewshot.js [--score RE] [--windows 16,32] [--step 4]
 * Prints one JSON line per config, then a summary per split: best, median and worst config with
 * the spread; docs/benchmarks-swat.md records the figures. Data: $FTNODE_SWAT_DIR (default
 * ../shared/datasets/swat relative to the repository root).
 */
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fewShotClassifier } from '../src/trainers/batch-msc/classifier.js';
import { settingsOrThrow } from '../src/trainers/batch-msc/settings.js';
import { predictWindowsFromCheckpoint } from '../src/trainers/timeseries/index.js';
import { macroF1 } from '../src/trainers/timeseries/metrics.js';
import { parseArgs } from './lib/args.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const swatDir = resolve(repoRoot, process.env.FTNODE_SWAT_DIR ?? '../shared/datasets/swat');
const LABELS = ['attack', 'normal'];

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

async function main(): Promise<void> {
  const opt = parseArgs({ score: '_(tune|train)_', windows: '16,32,64,128', step: 4 });
  const names = (await readdir(swatDir)).filter((f) => f.endsWith('.csv')).sort();
  const file = (f: string) => ({ file_id: f, path: join(swatDir, f), label: f.startsWith('swat_attack') ? 'attack' : 'normal' });
  const nShots = names.filter((f) => f.includes('_nshot_')).map(file);
  // One split = the attack and normal file with the same suffix (tune_0, train_0, ...).
  const splits = new Map<string, ReturnType<typeof file>[]>();
  for (const f of names.filter((n) => new RegExp(opt.score).test(n) && !n.includes('_nshot_'))) {
    const key = f.replace(/^swat_(attack|normal)_/, '').replace(/\.csv$/, '');
    splits.set(key, [...(splits.get(key) ?? []), file(f)]);
  }
  const scores = new Map<string, number[]>();
  for (const window of String(opt.windows).split(',').map(Number)) {
    for (const metric of ['cosine', 'euclidean']) {
      for (const k of [3, 5, 7, 11, 15]) {
        const t0 = performance.now();
        const s = settingsOrThrow({ parameters: { worker: { config: { reader_config: { window_size: window, step_size: opt.step }, classifier_config: { n_neighbors: k, metric } } } } });
        const clf = await fewShotClassifier(nShots, s);
        const row: Record<string, unknown> = { window, n_neighbors: k, metric };
        for (const [key, files] of splits) {
          const preds = await predictWindowsFromCheckpoint(clf.model, files, { stepSize: opt.step });
          const truth = preds.map((p) => LABELS.indexOf(files.find((f) => f.file_id === p.file_id)!.label));
          const pred = preds.map((p) => LABELS.indexOf(p.prediction));
          const f1 = +macroF1(truth, pred, 2).toFixed(4);
          row[key] = f1;
          row[`${key}_attack_recall`] = +(truth.filter((t, i) => t === 0 && pred[i] === 0).length / truth.filter((t) => t === 0).length).toFixed(3);
          scores.set(key, [...(scores.get(key) ?? []), f1]);
        }
        row.seconds = +((performance.now() - t0) / 1000).toFixed(1);
        console.log(JSON.stringify(row));
      }
    }
  }
  const summary: Record<string, unknown> = {};
  for (const [key, v] of scores) summary[key] = { best: Math.max(...v), median: +median(v).toFixed(4), worst: Math.min(...v), configs: v.length };
  console.log(JSON.stringify({ summary }));
}

void main();
