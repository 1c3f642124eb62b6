/** Reader, config and create-time validation: forward fill, bad cells, short files, columns. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvalidDatasetError } from '../builtin.js';
import { parseConfig } from './config.js';
import { MAX_CSV_LINE_BYTES, parseCsvText, readSeriesFile, scanCsvFile, seriesFromRows, splitCsvLine } from './reader.js';
import { validateTimeseries } from './validate.js';
import { WindowSet, fitChannelStats, applyChannelStats } from './windows.js';

const opts = { dataColumns: null, timestampColumn: 'timestamp' };
const col = (s: { data: Float32Array; length: number }, c: number) => Array.from(s.data.subarray(c * s.length, (c + 1) * s.length));

function problemOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidDatasetError, String(err));
    return err.problem;
  }
  assert.fail('expected an InvalidDatasetError');
}

test('forward fill: gaps take the previous value, leading gaps the first valid one, empty columns 0', () => {
  const csv = 'timestamp,a,b,c\nt0,,1,\nt1,2,,NaN\nt2,,3,\nt3,5,nan,\n';
  const s = parseCsvText(csv, 'f.csv', opts);
  assert.deepEqual(s.columns, ['a', 'b', 'c']);
  assert.deepEqual(s.timestamps, ['t0', 't1', 't2', 't3']);
  assert.deepEqual(col(s, 0), [2, 2, 2, 5]);
  assert.deepEqual(col(s, 1), [1, 1, 3, 3]);
  assert.deepEqual(col(s, 2), [0, 0, 0, 0]);
});

test('timestamps are opaque strings; quotes, CRLF, BOM and blank lines are handled', () => {
  const csv = '\ufefftimestamp,x\r\n"28/12/2015 10:29:14 AM",1.5\r\n\r\n"a ""quoted"", one",-2e-3\r\n';
  const s = parseCsvText(csv, 'f.csv', opts);
  assert.deepEqual(s.timestamps, ['28/12/2015 10:29:14 AM', 'a "quoted", one']);
  assert.deepEqual(col(s, 0), [1.5, Math.fround(-0.002)]);
  assert.deepEqual(splitCsvLine('a,"b,c",d'), ['a', 'b,c', 'd']);
});

test('a non-numeric cell names the file, the 1-based line and the column', () => {
  const p = problemOf(() => parseCsvText('timestamp,a,b\nt0,1,2\nt1,3,abc\n', 'bad.csv', opts));
  assert.deepEqual({ ...p, message: undefined }, { file_id: 'bad.csv', line: 3, column: 'b', message: undefined });
  assert.match(p.message, /not a number: "abc"/);
  assert.equal(problemOf(() => parseCsvText('timestamp,a\nt0,0x10\n', 'hex.csv', opts)).line, 2);
  assert.equal(problemOf(() => parseCsvText('timestamp,a\nt0,1e999\n', 'inf.csv', opts)).column, 'a');
});

test('missing column, wrong cell count and short file are clear errors', () => {
  const missing = problemOf(() => parseCsvText('timestamp,a\nt0,1\n', 'm.csv', { ...opts, dataColumns: ['a', 'zz'] }));
  assert.equal(missing.column, 'zz');
  assert.equal(missing.line, 1);
  assert.match(missing.message, /missing column 'zz'/);
  assert.equal(problemOf(() => parseCsvText('timestamp,a\nt0,1,2\n', 'w.csv', opts)).line, 2);
  const short = problemOf(() => parseCsvText('timestamp,a\nt0,1\nt1,2\n', 's.csv', { ...opts, minRows: 16 }));
  assert.match(short.message, /has 2 data rows; at least 16/);
});

test('JSON rows parse like CSV cells; null is missing', () => {
  const s = seriesFromRows([{ timestamp: 'x', a: null, b: '2' }, { timestamp: 'y', a: 1, b: 3 }], 'rows', ['a', 'b'], 'timestamp');
  assert.deepEqual(col(s, 0), [1, 1]);
  assert.deepEqual(col(s, 1), [2, 3]);
  assert.equal(problemOf(() => seriesFromRows([{ a: 'x' }], 'rows', ['a'], 'timestamp')).column, 'a');
});

test('windows: count, layout [n, C, L], end timestamps; channel stats from training rows', () => {
  const rows = Array.from({ length: 10 }, (_, t) => `t${t},${t},${10 * t}`).join('\n');
  const s = parseCsvText(`timestamp,a,b\n${rows}\n`, 'f.csv', opts);
  const ws = new WindowSet([s], 4, 3); // starts 0, 3, 6
  assert.equal(ws.count, 3);
  assert.equal(ws.endTimestamp(1), 't6');
  assert.deepEqual(Array.from(ws.fill([1], 0, 1)), [3, 4, 5, 6, 30, 40, 50, 60]);
  const stats = fitChannelStats([s]);
  assert.ok(Math.abs(stats.mean[0]! - 4.5) < 1e-6);
  applyChannelStats(s, stats);
  assert.ok(Math.abs(s.data.slice(0, 10).reduce((a, b) => a + b, 0)) < 1e-4);
});

test('config: defaults, bounds, and all problems at once', () => {
  const ok = parseConfig({ method: { type: 'knn', knn: { reader: { window_size: 64, step_size: 1 } } } });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.config.knn.nNeighbors, 5);
  assert.equal(ok.config.encoder.instanceNorm, true);
  const bad = parseConfig({ method: { type: 'head', head: { hyperparameters: { batch_size: 0, foo: 1 }, reader: { window_size: 8, step_size: 0 } } } });
  assert.deepEqual(bad.problems.map((p) => p.column).sort(), ['method.head.hyperparameters.batch_size', 'method.head.reader.step_size', 'method.head.reader.window_size']);
  assert.ok(bad.problems.every((p) => p.file_id === '(config)'));
  assert.match(bad.warnings[0]!, /foo/);
  assert.equal(parseConfig({ method: { type: 'svm' } }).problems[0]!.column, 'method.type');
  assert.equal(parseConfig({ method: { type: 'knn', knn: { hyperparameters: { n_neighbors: 2 } } } }).problems.length, 1);
});

test('config: knn chooses its encoder unless the request names encoder, instance_norm or num_features', () => {
  const knn = (hp: Record<string, unknown>) => parseConfig({ method: { type: 'knn', knn: { hyperparameters: hp } } }).config;
  assert.equal(knn({}).auto, true);
  assert.equal(knn({ n_neighbors: 7, metric: 'euclidean', hidden_units: 8, num_features: null }).auto, true);
  for (const fixed of [{ num_features: 840 }, { instance_norm: true }, { encoder: 'minirocket' }]) assert.equal(knn(fixed).auto, false, JSON.stringify(fixed));
  assert.equal(knn({ encoder: 'window_stats' }).encoder.windowStats, true);
  // Without a choice (fixed keys, or files too short to hold a block out) knn stays on MiniRocket, 1,008 features.
  assert.deepEqual([knn({ instance_norm: true }).encoder.windowStats, knn({}).encoder.numFeatures], [false, 1008]);
});

test('validate() reports every dataset and config problem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ftnode-val-'));
  const good = Array.from({ length: 20 }, (_, t) => `t${t},${t},${t}`).join('\n');
  await writeFile(join(dir, 'good.csv'), `timestamp,a,b\n${good}\n`);
  await writeFile(join(dir, 'bad.csv'), `timestamp,a,b\n${good}\nt99,1,oops\n`);
  await writeFile(join(dir, 'short.csv'), 'timestamp,a,b\nt0,1,1\n');
  await writeFile(join(dir, 'nocol.csv'), `timestamp,a\n${good.replace(/,\d+$/gm, '')}\n`);
  const f = (id: string, label?: string) => ({ file_id: id, path: join(dir, id), label });
  const problems = await validateTimeseries({
    config: { method: { type: 'head', head: { reader: { window_size: 16, step_size: 0 } } } },
    datasets: [
      { name: 'training_files', split: 'train', files: [f('good.csv', 'x'), f('bad.csv', 'x'), f('short.csv', 'x'), f('nocol.csv', 'x'), f('gone.csv', 'x')] },
      { name: 'validation_files', split: 'eval', files: [f('good.csv', 'y'), f('good.csv')] },
    ],
  });
  const by = (id: string) => problems.filter((p) => p.file_id === id);
  assert.equal(by('(config)')[0]!.column, 'method.head.reader.step_size');
  assert.match(by('training_files')[0]!.message, /at least 2 distinct labels/);
  assert.deepEqual([by('bad.csv')[0]!.line, by('bad.csv')[0]!.column], [22, 'b']);
  assert.match(by('short.csv')[0]!.message, /at least 16/);
  assert.equal(by('nocol.csv')[0]!.column, 'b');
  assert.match(by('gone.csv')[0]!.message, /cannot read/);
  assert.ok(by('good.csv').some((p) => /does not occur in training_files/.test(p.message)));
  assert.ok(by('good.csv').some((p) => /no label/.test(p.message)));
  // An unusable window_size is one config problem, not also a "too short" problem per file.
  const onlyConfig = await validateTimeseries({
    config: { method: { type: 'knn', knn: { reader: { window_size: 2000 } } } },
    datasets: [
      { name: 'training_files', split: 'train', files: [f('good.csv', 'x'), f('good.csv', 'y')] },
      { name: 'validation_files', split: 'eval', files: [f('good.csv', 'x')] },
    ],
  });
  assert.deepEqual(onlyConfig.map((p) => [p.file_id, p.column]), [['(config)', 'method.knn.reader.window_size']]);
  await rm(dir, { recursive: true, force: true });
});

test('readSeriesFile streams: the same Series as parseCsvText over pieces of lines; long lines and errors deep in a file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ftnode-stream-'));
  // ~3 MiB: several 1 MiB pieces, with gaps, CRLF and a BOM.
  const rows = Array.from({ length: 120_000 }, (_, t) => `2020-01-01 ${t},${t % 13 === 0 ? '' : (t * 0.37).toFixed(3)},${t < 5 ? 'NaN' : (-t).toString()}`);
  const text = `\ufefftimestamp,a,b\r\n${rows.join('\r\n')}\r\n`;
  await writeFile(join(dir, 'big.csv'), text);
  const streamed = await readSeriesFile(join(dir, 'big.csv'), 'big.csv', opts);
  const whole = parseCsvText(text, 'big.csv', opts);
  assert.deepEqual(streamed, whole);
  assert.equal(streamed.length, 120_000);
  // Training reads without timestamps: the same values.
  const bare = await readSeriesFile(join(dir, 'big.csv'), 'big.csv', { ...opts, timestamps: false });
  assert.deepEqual([bare.timestamps, bare.data], [[], whole.data]);
  // A bad cell near the end is named by line and column, at create too.
  await writeFile(join(dir, 'bad.csv'), `timestamp,a,b\n${rows.join('\n')}\nlast,1,x1\n`);
  const p = await problemOfAsync(scanCsvFile(join(dir, 'bad.csv'), 'bad.csv', opts));
  assert.deepEqual([p.file_id, p.line, p.column], ['bad.csv', 120_002, 'b']);
  const v = await validateTimeseries({
    config: { method: { type: 'knn', knn: { reader: { window_size: 16 } } } },
    datasets: [
      { name: 'training_files', split: 'train', files: [{ file_id: 'big.csv', path: join(dir, 'big.csv'), label: 'x' }, { file_id: 'bad.csv', path: join(dir, 'bad.csv'), label: 'y' }] },
      { name: 'validation_files', split: 'eval', files: [{ file_id: 'big.csv', path: join(dir, 'big.csv'), label: 'x' }] },
    ],
  });
  assert.deepEqual(v.map((e) => [e.file_id, e.line, e.column]), [['bad.csv', 120_002, 'b']]);
  // A line over 1 MiB is refused with its number.
  await writeFile(join(dir, 'long.csv'), `timestamp,a\nt0,1\nt1,${'9'.repeat(MAX_CSV_LINE_BYTES)}\n`);
  const long = await problemOfAsync(scanCsvFile(join(dir, 'long.csv'), 'long.csv', opts));
  assert.equal(long.line, 3);
  assert.match(long.message, /a CSV line may hold at most 1048576/);
  await rm(dir, { recursive: true, force: true });
});

async function problemOfAsync(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof InvalidDatasetError, String(err));
    return err.problem;
  }
  assert.fail('expected an InvalidDatasetError');
}

test('cells: the decimal forms accepted and refused (the hand-written check of NUMBER_RE)', () => {
  const ok: Array<[string, number]> = [['1', 1], ['-1.5', -1.5], ['+.5', 0.5], ['5.', 5], ['2E-3', 0.002], ['1e+2', 100], [' 3 ', 3], ['00012', 12]];
  for (const [cell, v] of ok) assert.equal(parseCsvText(`timestamp,a\nt0,${cell}\n`, 'n.csv', opts).data[0], Math.fround(v), cell);
  for (const cell of ['.', '-', '1e', '1e+', '0x10', 'inf', '1.2.3', '1 2', '+-1', '.e1', 'abc']) {
    assert.match(problemOf(() => parseCsvText(`timestamp,a\nt0,${cell}\n`, 'n.csv', opts)).message, /not a number/, cell);
  }
  // A quoted line goes through the full splitter: same values.
  const s = parseCsvText('timestamp,a,b\n"t,0",1,"2"\nt1,3,4\n', 'q.csv', opts);
  assert.deepEqual([s.timestamps, Array.from(s.data)], [['t,0', 't1'], [1, 3, 2, 4]]);
});
