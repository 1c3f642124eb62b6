/**
 * Real-sized datasets through the real server (`ftnode serve` as a child process, SQLite, one
 * built-in worker): a generated Newton SFT JSONL of `--mb` MB (2,000,000 examples at 1 GB) and a
 * time-series CSV of `--csv-mb` MB (4 channels), both written into a temp dir (deleted after) and sent
 * by direct upload. Per file:
 *   - validation at create: POST → 201 wall time, as MB/s of the file (the streaming readers of
 *     text-sft and of the time-series trainer, in the server);
 *   - baselines in the same run, same file, this process: a bare line-by-line read with node's
 *     readline (the ratio is validation ÷ readline) and a raw 1 MiB-chunk newline count;
 *   - training: text-sft until its first checkpoint (the first evaluation: spill pass, a tenth of the
 *     schedule), then stop (`--train complete` waits for COMPLETED instead); an omega knn job on the
 *     CSV (step 4096: the trainer holds the values, 4 bytes a cell); a batch job classifying the CSV
 *     (few-shot knn, step 512), which streams it;
 *   - peak RSS (VmHWM) of the server and of each trainer process (children of the server, sampled
 *     every 10 ms).
 *   node dist/bench/datasets.js [--mb 1024] [--csv-mb 1024] [--train checkpoint|complete] [--json FILE]
 * Prints a RESULT line (JSON) at the end.
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FtClient } from '../src/client/client.js';
import { directUpload } from '../src/client/direct-upload.js';
import { writeSensorCsv, writeSftJsonl } from '../test/helpers/big-datasets.js';
import { TEST_KEY } from '../test/helpers/harness.js';
import { killHard, startServerProcess, type ServerProcess } from '../test/helpers/server-process.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { childPids, sampleChildren, sampleMemory } from './lib/proc.js';
import { ratio, table } from './lib/stats.js';

const opts = parseArgs({ mb: 1024, csvMb: 1024, train: 'checkpoint', json: '' });
const MB = 1e6;
const MiB = 1024 * 1024;
// ~537 bytes an example (4 readings): 2,000,000 examples at --mb 1024.
const EXAMPLES = Math.round((opts.mb / 1024) * 2_000_000);
// ~48 bytes a row (timestamp + 4 cells).
const CSV_ROWS = Math.round((opts.csvMb * MiB) / 48);

let server: ServerProcess;
const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
const until = async <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 3_600_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200)); // poll interval of a condition wait
  }
};
const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** Baselines: node's readline line by line, and a raw newline count over 1 MiB chunks; MB/s. */
async function baselines(path: string): Promise<{ readline: number; raw: number }> {
  const size = statSync(path).size / MB;
  let t0 = performance.now();
  let lines = 0;
  for await (const _ of createInterface({ input: createReadStream(path, { highWaterMark: MiB }), crlfDelay: Infinity })) lines++;
  const readline = size / seconds(t0);
  t0 = performance.now();
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(MiB);
  let nl = 0;
  for (let pos = 0; ; ) {
    const { bytesRead } = await fh.read(buf, 0, MiB, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    for (let i = buf.indexOf(10); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) nl++;
  }
  await fh.close();
  if (nl !== lines && nl + 1 !== lines) throw new Error(`line counts differ: ${nl} vs ${lines}`);
  return { readline, raw: size / seconds(t0) };
}

interface TrainRun { label: string; seconds: number; peakMiB: number; detail: string }

/** Runs one job to a condition while sampling the server's trainer children. */
async function trained(label: string, start: () => Promise<string>, done: (id: string) => Promise<string | null>): Promise<TrainRun> {
  const kids = sampleChildren(server.child.pid!, 10);
  const t0 = performance.now();
  const id = await start();
  const detail = await until(label, () => done(id));
  const s = seconds(t0);
  const peak = kids.stop();
  const run = { label, seconds: s, peakMiB: peak.peakHwmKiB / 1024, detail };
  console.log(`${label}: ${s.toFixed(1)} s, trainer peak RSS ${run.peakMiB.toFixed(0)} MiB (${peak.children} process), ${detail}`);
  return run;
}

async function createTimed(path: string, body: unknown, api = '/v0.5/fine-tune/jobs'): Promise<{ id: string; mbps: number; seconds: number }> {
  const t0 = performance.now();
  const r = await call('POST', api, body);
  const s = seconds(t0);
  if (r.status !== 201 && r.status !== 200) throw new Error(`create ${r.status}: ${JSON.stringify(r.body)}`);
  return { id: r.body.id, mbps: statSync(path).size / MB / s, seconds: s };
}

async function main(): Promise<void> {
  console.log(machineLine());
  const dir = mkdtempSync(join(tmpdir(), 'ftnode-bench-datasets-'));
  const home = join(dir, 'home');
  try {
    let t0 = performance.now();
    const jsonl = join(dir, 'big-sft.jsonl');
    const csv = join(dir, 'big-sensor.csv');
    writeSftJsonl(jsonl, EXAMPLES, { bytesPerExample: 540, seed: 1 });
    writeSensorCsv(csv, CSV_ROWS, 4, 1);
    const small = (name: string, seed: number) => (writeSensorCsv(join(dir, name), 4000, 4, seed), join(dir, name));
    const smallFiles = [small('a-train.csv', 2), small('b-train.csv', 3), small('a-val.csv', 4), small('b-val.csv', 5)];
    console.log(`generated ${EXAMPLES} examples (${(statSync(jsonl).size / MB).toFixed(0)} MB) and ${CSV_ROWS} CSV rows (${(statSync(csv).size / MB).toFixed(0)} MB) in ${seconds(t0).toFixed(0)} s`);

    const base = { jsonl: await baselines(jsonl), csv: await baselines(csv) };
    console.log(`baselines: readline ${base.jsonl.readline.toFixed(0)} / ${base.csv.readline.toFixed(0)} MB/s, raw newline count ${base.jsonl.raw.toFixed(0)} / ${base.csv.raw.toFixed(0)} MB/s (JSONL / CSV)`);

    mkdirSync(home);
    server = await startServerProcess(home, { FTNODE_WORKERS: '1' });
    const serverMem = sampleMemory(server.child.pid!, 10);
    const client = new FtClient({ endpoint: server.url, apiKey: TEST_KEY });
    t0 = performance.now();
    for (const p of [jsonl, csv, ...smallFiles]) await directUpload(client, p);
    console.log(`uploaded in ${seconds(t0).toFixed(0)} s`);

    // Text: validation at create, then training.
    const MODEL = 'Newton::c2_4_7b_251215a172f6d7';
    let textCreate = { id: '', mbps: 0, seconds: 0 };
    let lastStep = '';
    let stopSent = false;
    const text = await trained(`text-sft, ${opts.train === 'complete' ? 'to COMPLETED' : 'to its first checkpoint, then stop'}`, async () => {
      textCreate = await createTimed(jsonl, { name: 'bench-big-sft', config: { model: MODEL, datasets: [{ name: 'train', split: 'train', file_ids: ['big-sft.jsonl'] }] } });
      console.log(`text validation at create: ${textCreate.seconds.toFixed(1)} s = ${textCreate.mbps.toFixed(0)} MB/s`);
      return textCreate.id;
    }, async (id) => {
      const j = (await call('GET', `/v0.5/fine-tune/jobs/${id}`)).body;
      if (['FAILED', 'CANCELLED'].includes(j.status)) throw new Error(`text job ${j.status}: ${JSON.stringify(j.error)}`);
      if (j.progress?.step) lastStep = `step ${j.progress.step} of ${j.progress.total_steps}`;
      if (opts.train === 'complete') return j.status === 'COMPLETED' ? lastStep : null;
      if (j.status === 'STOPPED') return `stopped after the first checkpoint, at ${lastStep}`;
      if (j.status !== 'RUNNING' || stopSent) return null;
      const ck = (await call('GET', `/v0.5/fine-tune/jobs/${id}/checkpoints`)).body;
      const list = Array.isArray(ck) ? ck : ck.checkpoints ?? ck.data ?? [];
      if (list.length > 0) stopSent = (await call('PUT', `/v0.5/fine-tune/jobs/${id}/stop`)).status === 200;
      return null;
    });

    // Time series: omega validation at create and training (knn, sparse windows), then batch classification.
    const file = (id: string, label: string) => ({ file_id: id, label });
    let tsCreate = { id: '', mbps: 0, seconds: 0 };
    const omega = await trained('omega knn on the CSV, to COMPLETED', async () => {
      tsCreate = await createTimed(csv, {
        name: 'bench-big-csv', model: 'omega', seed: 0,
        method: { type: 'knn', knn: { hyperparameters: { n_neighbors: 3 }, reader: { window_size: 128, step_size: 4096 } } },
        training_files: [file('big-sensor.csv', 'a'), file('b-train.csv', 'b')],
        validation_files: [file('a-val.csv', 'a'), file('b-val.csv', 'b')],
      }, '/v0.6/fine_tuning/jobs');
      console.log(`CSV validation at create: ${tsCreate.seconds.toFixed(1)} s = ${tsCreate.mbps.toFixed(0)} MB/s`);
      return tsCreate.id;
    }, async (id) => {
      const j = (await call('GET', `/v0.5/fine-tune/jobs/${id}`)).body;
      if (['FAILED', 'CANCELLED', 'STOPPED'].includes(j.status)) throw new Error(`omega job ${j.status}: ${JSON.stringify(j.error)}`);
      return j.status === 'COMPLETED' ? 'completed' : null;
    });
    const batch = await trained('batch classification of the CSV (few-shot knn, step 512)', async () => {
      const r = await call('POST', '/v0.5/batch/jobs', {
        name: 'bench-big-batch', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
        inputs: { 'worker.inference': [{ file_id: 'big-sensor.csv' }], 'worker.n_shots': [{ file_id: 'a-train.csv', metadata: { class: 'a' } }, { file_id: 'b-train.csv', metadata: { class: 'b' } }] },
        parameters: { worker: { parallelism: 1, config: { reader_config: { window_size: 128, step_size: 512 }, batch_size: 256 } } },
      });
      if (r.status !== 201 && r.status !== 200) throw new Error(`batch create ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body.id;
    }, async (id) => {
      const j = (await call('GET', `/v0.5/batch/jobs/${id}`)).body;
      if (['FAILED', 'CANCELLED'].includes(j.status)) throw new Error(`batch job ${j.status}: ${JSON.stringify(j.error)}`);
      return j.status === 'COMPLETED' ? 'completed' : null;
    });
    const serverPeak = serverMem.stop().peakHwmKiB / 1024;

    console.log(`\n${table(['file', 'MB', 'readline MB/s', 'raw split MB/s', 'validation at create MB/s', 'vs readline'], [
      ['JSONL (text-sft)', (statSync(jsonl).size / MB).toFixed(0), base.jsonl.readline.toFixed(0), base.jsonl.raw.toFixed(0), textCreate.mbps.toFixed(0), ratio(textCreate.mbps / base.jsonl.readline)],
      ['CSV (omega)', (statSync(csv).size / MB).toFixed(0), base.csv.readline.toFixed(0), base.csv.raw.toFixed(0), tsCreate.mbps.toFixed(0), ratio(tsCreate.mbps / base.csv.readline)],
    ])}`);
    console.log(`\n${table(['run', 'seconds', 'trainer peak RSS MiB', 'detail'], [text, omega, batch].map((r) => [r.label, r.seconds.toFixed(1), r.peakMiB.toFixed(0), r.detail]))}`);
    console.log(`\nserver peak RSS: ${serverPeak.toFixed(0)} MiB (uploads, both validations, the jobs' bookkeeping)`);
    const result = {
      examples: EXAMPLES, jsonl_mb: statSync(jsonl).size / MB, csv_rows: CSV_ROWS, csv_mb: statSync(csv).size / MB, baselines: base,
      validation_mbps: { jsonl: textCreate.mbps, csv: tsCreate.mbps }, ratio_to_readline: { jsonl: textCreate.mbps / base.jsonl.readline, csv: tsCreate.mbps / base.csv.readline },
      server_peak_mib: serverPeak, trainer_peak_mib: { text_sft: text.peakMiB, omega_knn: omega.peakMiB, batch_msc: batch.peakMiB }, runs: [text, omega, batch],
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  } finally {
    if (server) {
      // A trainer left running by a failed run is in its own process group (the server starts it so).
      for (const pid of childPids(server.child.pid!)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await killHard(server);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
