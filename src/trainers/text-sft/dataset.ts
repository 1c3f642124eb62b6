/**
 * Loads and validates the datasets of a job (files grouped as train/eval splits) for the text-sft
 * trainer. The same code serves `validate()` at job create (collect up to MAX_PROBLEMS problems, so a
 * user fixes a file in one go) and `train()` (stop at the first). Problem lines are 1-based; the
 * message always names the 1-based example number too, since JSON arrays put many on one line.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DatasetProblem } from '../builtin.js';
import { parseContainer } from './containers.js';
import { checkExample, type SftExample } from './examples.js';

/** validate() reports at most this many problems: enough to fix a file, short enough to read. */
export const MAX_PROBLEMS = 20;

export interface DatasetFileRef {
  file_id: string;
  path: string;
}

export interface DatasetRef {
  name: string;
  split: 'train' | 'eval';
  files: DatasetFileRef[];
}

export interface LabeledExample extends SftExample {
  label: string;
  file_id: string;
  line: number;
}

export interface LoadedDatasets {
  train: LabeledExample[];
  eval: LabeledExample[];
  problems: DatasetProblem[];
}

/** Parses and checks one file's text; `limit` bounds the problems returned. */
export function readDatasetText(file_id: string, fileName: string, text: string, limit = MAX_PROBLEMS): { examples: LabeledExample[]; problems: DatasetProblem[] } {
  const parsed = parseContainer(fileName, text);
  const problems: DatasetProblem[] = parsed.problems.map((p) => ({ file_id, line: p.line, message: p.message }));
  const examples: LabeledExample[] = [];
  parsed.examples.forEach((raw) => {
    if (problems.length >= limit) return;
    const { example, problems: found } = checkExample(raw.value, true);
    for (const p of found) problems.push({ file_id, line: raw.locate(p.path), message: `example ${raw.index + 1}: ${p.message}` });
    if (example && example.label !== null) examples.push({ text: example.text, label: example.label, file_id, line: raw.line });
  });
  if (parsed.examples.length === 0 && parsed.problems.length === 0) {
    problems.push({ file_id, message: `file contains no examples (read as ${parsed.container})` });
  }
  return { examples, problems: problems.slice(0, limit) };
}

/** Reads every file of every dataset; stops collecting once `limit` problems are found. */
export async function loadDatasets(datasets: DatasetRef[], limit = MAX_PROBLEMS): Promise<LoadedDatasets> {
  const out: LoadedDatasets = { train: [], eval: [], problems: [] };
  for (const ds of datasets) {
    for (const file of ds.files) {
      if (out.problems.length >= limit) return out;
      let text: string;
      try {
        text = await readFile(file.path, 'utf8');
      } catch (err) {
        out.problems.push({ file_id: file.file_id, message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        continue;
      }
      const { examples, problems } = readDatasetText(file.file_id, fileNameFor(file), text, limit - out.problems.length);
      out.problems.push(...problems);
      (ds.split === 'eval' ? out.eval : out.train).push(...examples);
    }
  }
  if (out.problems.length === 0 && out.train.length === 0) {
    const first = datasets.flatMap((d) => d.files)[0];
    out.problems.push({
      file_id: first?.file_id ?? '',
      message: "no training examples: at least one dataset with split 'train' holding one valid example is required",
    });
  }
  return out;
}

/** The file_id is the uploaded name (contract §4), so its extension is the better hint than the blob path. */
function fileNameFor(file: DatasetFileRef): string {
  return /\.[A-Za-z0-9]+$/.test(file.file_id) ? file.file_id : basename(file.path);
}
