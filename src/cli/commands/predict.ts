/**
 * `ftnode predict JOB`: runs a job's checkpoint on new data (POST /v0.5/fine-tune/jobs/{id}/predict,
 * the latest committed checkpoint unless --checkpoint). Text models take --examples (a JSONL file, one
 * example object per line, or a JSON array); time-series models take --file-ids (uploaded CSVs) or
 * --rows (a JSON array of row objects, `{timestamp, <column>: value, …}`). Human output is one line
 * per prediction with its probability; --json prints the server's answer.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { PredictBody } from '../../client/index.js';
import { act, CliError, remote } from '../remote/context.js';
import { num, table } from '../remote/format.js';
import { readableFile } from '../remote/local-files.js';

interface Prediction {
  prediction?: unknown;
  probabilities?: Record<string, number>;
  file_id?: string;
  window_index?: number;
  timestamp?: string;
}

async function jsonItems(path: string, what: string): Promise<unknown[]> {
  await readableFile(path);
  const text = (await readFile(path, 'utf8')).trim();
  try {
    if (text.startsWith('[')) return JSON.parse(text) as unknown[];
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
  } catch (e) {
    throw new CliError('invalid_parameter', `${path} is not ${what} (a JSON array, or one JSON value per line): ${(e as Error).message}`);
  }
}

export function registerPredict(program: Command): void {
  remote(program.command('predict').description("run a job's checkpoint on new data (latest checkpoint unless --checkpoint)"))
    .argument('<job_id>')
    .option('--checkpoint <ckp_id>', 'a checkpoint id from `jobs checkpoints` (default: the latest)')
    .option('--examples <file>', 'text models: examples, JSONL (one object per line) or a JSON array')
    .option('--file-ids <file_ids...>', 'time-series models: uploaded CSV files to classify window by window')
    .option('--rows <file>', 'time-series models: a JSON array of rows ({timestamp, <column>: value, …})')
    .action(act(async (ctx, id: string) => {
      const o = ctx.opts;
      const given = ['examples', 'fileIds', 'rows'].filter((k) => o[k] !== undefined);
      if (given.length !== 1) throw new CliError('missing_parameter', 'give exactly one of --examples FILE, --file-ids ID... or --rows FILE');
      const body: PredictBody = {};
      if (o.checkpoint) body.checkpoint_id = o.checkpoint as string;
      if (o.examples) body.examples = await jsonItems(o.examples as string, 'a list of examples');
      if (o.fileIds) body.file_ids = o.fileIds as string[];
      if (o.rows) body.rows = (await jsonItems(o.rows as string, 'a list of rows')) as Array<Record<string, unknown>>;
      const r = await ctx.client().predict(id, body);
      if (ctx.json) return ctx.out(JSON.stringify(r));
      const preds = r.predictions as Prediction[];
      const windows = preds.some((p) => p.window_index !== undefined);
      const rows = preds.map((p, i) => {
        const prob = p.probabilities && typeof p.prediction === 'string' ? p.probabilities[p.prediction] : undefined;
        const cells = [String(p.prediction ?? '-'), prob === undefined ? null : num(prob)];
        return windows ? [p.file_id ?? '-', p.window_index ?? '-', p.timestamp ?? '-', ...cells] : [i, ...cells];
      });
      ctx.out(table(rows, windows ? ['FILE_ID', 'WINDOW', 'TIMESTAMP', 'PREDICTION', 'P'] : ['#', 'PREDICTION', 'P']));
      ctx.out(`${preds.length} prediction${preds.length === 1 ? '' : 's'} from ${r.checkpoint_id} (step ${r.step})${r.stand_in ? ', a stand-in model' : ''}`);
    }));
}
