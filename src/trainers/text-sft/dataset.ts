/**
 * Reads and checks the datasets of a text-sft job (files grouped as train/eval splits), streaming:
 * every valid example goes to a callback as it is read, nothing is collected, so memory does not
 * grow with the files. The same pass serves `validate()` at job create (collect up to MAX_PROBLEMS
 * problems, so a user fixes a file in one go) and the trainer's first pass (stop at the first).
 * - JSONL is read line by line (src/lib/lines.ts): a line may hold at most MAX_LINE_BYTES.
 * - JSON arrays and YAML streams are one document each: read whole, so at most WHOLE_FILE_MAX_BYTES.
 * - The train split may hold at most MAX_CLASSES distinct outputs (the trainer's classes): checked
 *   here, so a job that cannot train is refused at create instead of failing at run time.
 * Problem lines are 1-based; the message always names the 1-based example number too.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { forEachLine } from '../../lib/lines.js';
import type { DatasetProblem } from '../builtin.js';
import { parseContainer, parseJsonlLine, type RawExample } from './containers.js';
import { checkExample, type SftExample } from './examples.js';

/** validate() reports at most this many problems: enough to fix a file, short enough to read. */
export const MAX_PROBLEMS = 20;
/** More distinct outputs than this means free-form generation, which a label classifier cannot do. */
export const MAX_CLASSES = 1024;
/** The longest JSONL line read (the upload inspector's limit too): a 16 MiB example featurises in ~1 s. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** JSON and YAML documents are parsed whole: 64 MiB of text is ~0.3-0.6 GB of parsed objects. */
export const WHOLE_FILE_MAX_BYTES = 64 * 1024 * 1024;

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

export interface ScanResult {
  problems: DatasetProblem[];
  /** Valid labeled examples per split. */
  trainCount: number;
  evalCount: number;
  /** Distinct outputs of the train split (at most MAX_CLASSES + 1 are kept), in first-seen order. */
  labels: string[];
}

export type ExampleCallback = (split: 'train' | 'eval', ex: LabeledExample) => void;

/** Reads every file of every dataset in order; stops once `limit` problems are found. */
export async function scanDatasets(datasets: DatasetRef[], limit = MAX_PROBLEMS, onExample?: ExampleCallback): Promise<ScanResult> {
  const out: ScanResult = { problems: [], trainCount: 0, evalCount: 0, labels: [] };
  const seen = new Set<string>();
  const full = () => out.problems.length >= limit;
  for (const ds of datasets) {
    for (const file of ds.files) {
      if (full()) return out;
      const accept = (ex: LabeledExample, index: number): void => {
        if (ds.split === 'eval') out.evalCount++;
        else {
          out.trainCount++;
          if (!seen.has(ex.label) && seen.size <= MAX_CLASSES) {
            seen.add(ex.label);
            out.labels.push(ex.label);
            if (seen.size === MAX_CLASSES + 1) {
              out.problems.push({
                file_id: file.file_id, line: ex.line,
                message: `example ${index + 1}: the train split has more than ${MAX_CLASSES} distinct outputs (this is the ${MAX_CLASSES + 1}th); the text-sft trainer learns to choose among the outputs it has seen and supports at most ${MAX_CLASSES}`,
              });
            }
          }
        }
        onExample?.(ds.split, ex);
      };
      await readDatasetFile(file, accept, (p) => (out.problems.push(p), !full()));
    }
  }
  if (out.problems.length === 0 && out.trainCount === 0) {
    const first = datasets.flatMap((d) => d.files)[0];
    out.problems.push({
      file_id: first?.file_id ?? '',
      message: "no training examples: at least one dataset with split 'train' holding one valid example is required",
    });
  }
  return out;
}

/**
 * Streams one file: `onExample` gets each valid labeled example with its 0-based example index,
 * `onProblem` each problem (returning false stops the file).
 */
export async function readDatasetFile(file: DatasetFileRef, onExample: (ex: LabeledExample, index: number) => void, onProblem: (p: DatasetProblem) => boolean): Promise<void> {
  const { file_id } = file;
  const visit = (raw: RawExample): boolean => {
    const { example, problems } = checkExample(raw.value, true);
    for (const p of problems) if (!onProblem({ file_id, line: raw.locate(p.path), message: `example ${raw.index + 1}: ${p.message}` })) return false;
    if (example && example.label !== null) onExample({ text: example.text, label: example.label, file_id, line: raw.line }, raw.index);
    return true;
  };
  let plan: Awaited<ReturnType<typeof planFile>>;
  try {
    plan = await planFile(file);
  } catch (err) {
    onProblem({ file_id, message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return;
  }
  if (plan.kind === 'problem') {
    onProblem({ file_id, message: plan.message });
    return;
  }
  if (plan.kind === 'whole') {
    const parsed = parseContainer(fileNameFor(file), plan.text);
    plan.text = '';
    for (const p of parsed.problems) if (!onProblem({ file_id, line: p.line, message: p.message })) return;
    for (const raw of parsed.examples) if (!visit(raw)) return;
    if (parsed.examples.length === 0 && parsed.problems.length === 0) onProblem({ file_id, message: `file contains no examples (read as ${parsed.container})` });
    return;
  }
  let count = 0;
  await forEachLine(file.path, (text, line) => {
    if (text.trim() === '') return true;
    const r = parseJsonlLine(text, line, count++);
    return 'value' in r ? visit(r) : onProblem({ file_id, line, message: r.message });
  }, {
    maxLineBytes: MAX_LINE_BYTES,
    onTooLong: (line, bytes) => onProblem({ file_id, line, message: `example ${++count}: the line holds ${bytes} bytes; a JSONL line may hold at most ${MAX_LINE_BYTES} (16 MiB)` }),
  });
  if (count === 0) onProblem({ file_id, message: 'file contains no examples (read as jsonl)' });
}

/** How a file is read: JSONL streamed, a document of at most WHOLE_FILE_MAX_BYTES whole, else refused. */
async function planFile(file: DatasetFileRef): Promise<{ kind: 'stream' } | { kind: 'whole'; text: string } | { kind: 'problem'; message: string }> {
  const name = fileNameFor(file).toLowerCase();
  const { size } = await stat(file.path);
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return { kind: 'stream' };
  if (size <= WHOLE_FILE_MAX_BYTES) return { kind: 'whole', text: await readFile(file.path, 'utf8') };
  // Too big for one document. A file that starts like a JSON object is JSON Lines (a `.json` upload
  // of JSONL, or a sniffed one): stream it. Anything else would have to be parsed whole.
  const head = Buffer.alloc(4096);
  const fh = await open(file.path, 'r');
  let bytes: number;
  try {
    ({ bytesRead: bytes } = await fh.read(head, 0, head.length, 0));
  } finally {
    await fh.close();
  }
  const start = head.toString('utf8', 0, bytes).replace(/^\uFEFF/, '').trimStart();
  if (!name.endsWith('.yaml') && !name.endsWith('.yml') && start.startsWith('{')) return { kind: 'stream' };
  return {
    kind: 'problem',
    message: `${size} bytes: a JSON array or YAML dataset is parsed whole and may hold at most ${WHOLE_FILE_MAX_BYTES} bytes (64 MiB); write larger datasets as JSONL (one example a line, streamed)`,
  };
}

/** Parses and checks one file's text (whole-text API, e.g. for tests); `limit` bounds the problems. */
export function readDatasetText(file_id: string, fileName: string, text: string, limit = MAX_PROBLEMS): { examples: LabeledExample[]; problems: DatasetProblem[] } {
  const parsed = parseContainer(fileName, text);
  const problems: DatasetProblem[] = parsed.problems.map((p) => ({ file_id, line: p.line, message: p.message }));
  const examples: LabeledExample[] = [];
  for (const raw of parsed.examples) {
    if (problems.length >= limit) break;
    const { example, problems: found } = checkExample(raw.value, true);
    for (const p of found) problems.push({ file_id, line: raw.locate(p.path), message: `example ${raw.index + 1}: ${p.message}` });
    if (example && example.label !== null) examples.push({ text: example.text, label: example.label, file_id, line: raw.line });
  }
  if (parsed.examples.length === 0 && parsed.problems.length === 0) {
    problems.push({ file_id, message: `file contains no examples (read as ${parsed.container})` });
  }
  return { examples, problems: problems.slice(0, limit) };
}

/** The file_id is the uploaded name (docs/spec.md#files), so its extension is the better hint than the blob path. */
function fileNameFor(file: DatasetFileRef): string {
  return /\.[A-Za-z0-9]+$/.test(file.file_id) ? file.file_id : basename(file.path);
}
