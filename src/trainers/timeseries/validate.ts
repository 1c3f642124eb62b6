/**
 * Create-time validation of an omega job (runs in the server, so it stays cheap: one streaming
 * pass per file, holding one line at a time, stopping at each file's first bad cell). Returns EVERY problem found, so one 400 answer
 * lists them all. Config problems come back as DatasetProblems with file_id "(config)" and column =
 * the field path (e.g. "method.head.reader.window_size") rather than as a thrown
 * InvalidConfigError, for the same reason: one answer, all problems. train() throws
 * InvalidConfigError for the same checks (exit code 3).
 */
import { InvalidDatasetError, type DatasetProblem, type ValidationInput } from '../builtin.js';
import { parseConfig } from './config.js';
import { splitFiles } from './data.js';
import { scanCsvFile } from './reader.js';

export async function validateTimeseries(input: ValidationInput): Promise<DatasetProblem[]> {
  const { config, problems } = parseConfig(input.config);
  const { train, val } = splitFiles(input.datasets);
  if (train.length === 0) problems.push({ file_id: 'training_files', message: 'no training files' });
  if (val.length === 0) problems.push({ file_id: 'validation_files', message: 'validation_files is required for omega (at least one file)' });
  for (const f of [...train, ...val]) {
    if (!f.label) problems.push({ file_id: f.file_id, message: 'no label: every file needs a `label` (one class per file)' });
  }
  const labels = new Set(train.map((f) => f.label).filter((l): l is string => !!l));
  if (train.length > 0 && labels.size < 2) {
    problems.push({ file_id: 'training_files', message: `needs at least 2 distinct labels, found ${labels.size}${labels.size ? ` (${[...labels].join(', ')})` : ''}` });
  }
  for (const f of val) {
    if (f.label && labels.size > 0 && !labels.has(f.label)) problems.push({ file_id: f.file_id, message: `label '${f.label}' does not occur in training_files` });
  }
  const r = config.reader;
  // With an unusable window_size the default (128) would only add misleading "too short" problems.
  const minRows = problems.some((p) => p.column?.endsWith('reader.window_size')) ? 1 : r.windowSize;
  let columns = r.dataColumns;
  for (const f of [...train, ...val]) {
    try {
      const s = await scanCsvFile(f.path, f.file_id, { dataColumns: columns, timestampColumn: r.timestampColumn, minRows });
      columns ??= s.names; // the first readable file fixes the default columns for the others
    } catch (err) {
      if (err instanceof InvalidDatasetError) problems.push(err.problem);
      else problems.push({ file_id: f.file_id, message: `cannot be read: ${(err as Error).message}` });
    }
  }
  return problems;
}
