/**
 * Create-time checks of a batch job (run in the server, so cheap; every problem reported at once):
 * the config (as the time-series trainer parses it), the attached checkpoint's header (format and
 * reader), the n_shots files in full (few-shot only: they are the training data; streamed, one line
 * held at a time), and the header row
 * of each inference file against the columns in force (the checkpoint's, the request's data_columns,
 * or the first n_shots file's). Inference rows are read at run time only: inputs can be large.
 */
import { InvalidDatasetError, type DatasetProblem, type ValidationInput } from '../builtin.js';
import { CONFIG_FILE_ID, READER_DEFAULTS } from '../timeseries/config.js';
import { resolveColumns, scanCsvFile } from '../timeseries/reader.js';
import { readCheckpointHeader, readCsvHeader } from './header.js';
import { parseBatchSettings } from './settings.js';

export const CHECKPOINT_PORT = 'worker.fine_tune_checkpoint';

const problemOf = (file_id: string, err: unknown): DatasetProblem =>
  err instanceof InvalidDatasetError ? err.problem : { file_id, message: `cannot be read: ${(err as Error).message}` };

export async function validateBatch(input: ValidationInput): Promise<DatasetProblem[]> {
  const { settings: s, problems } = parseBatchSettings(input.config);
  const ckptFile = input.datasets.find((d) => d.name === CHECKPOINT_PORT)?.files[0];
  const inference = input.datasets.filter((d) => d.split === 'eval' && d.name !== CHECKPOINT_PORT).flatMap((d) => d.files);
  const nShots = input.datasets.filter((d) => d.split === 'train').flatMap((d) => d.files);
  let columns = s.reader.dataColumns;
  let ts = s.reader.timestampColumn ?? READER_DEFAULTS.timestampColumn;
  let window = s.reader.windowSize ?? READER_DEFAULTS.windowSize;
  if (ckptFile) {
    try {
      const h = await readCheckpointHeader(ckptFile.path);
      if (h.format !== 'ftnode-timeseries' || !h.reader) throw new Error(`format ${String(h.format)} is not an ftnode time-series checkpoint`);
      ({ data_columns: columns, timestamp_column: ts, window_size: window } = h.reader);
    } catch (err) {
      return [...problems, { file_id: CONFIG_FILE_ID, column: `inputs.${CHECKPOINT_PORT}`, message: `checkpoint ${ckptFile.file_id} cannot be used: ${(err as Error).message}` }];
    }
  } else {
    for (const f of nShots) {
      try {
        const one = await scanCsvFile(f.path, f.file_id, { dataColumns: columns, timestampColumn: ts, minRows: window });
        columns ??= one.names; // the first readable file fixes the default columns for the others
      } catch (err) {
        problems.push(problemOf(f.file_id, err));
      }
    }
  }
  for (const f of inference) {
    try {
      const header = await readCsvHeader(f.path);
      if (header.length === 0) throw new InvalidDatasetError({ file_id: f.file_id, line: 1, message: 'empty file: a header row is required' });
      if (columns) resolveColumns(header, f.file_id, { dataColumns: columns, timestampColumn: ts });
    } catch (err) {
      problems.push(problemOf(f.file_id, err));
    }
  }
  return problems;
}
