/**
 * `ftnode jobs watch` / `jobs create --wait` against real servers: an Omega job's evaluations are on
 * the optimizer-step axis with macro_f1 and `epoch` as a field, each reported exactly once (also when
 * watch attaches mid-run), the end line and `jobs get` carry the result summary (best checkpoint,
 * early stop, duration); early stopping shortens "step N of M" and the remaining time; a server that
 * goes away is retried (and a watch whose --reconnect-for is spent exits 5 `stream_lost`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { Client, Gates, jobBody, startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';
import { killHard, startServerProcess, writeServerConfig, type ServerProcess } from './helpers/server-process.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const JOBS = '/v0.5/fine-tune/jobs';

let t: TestApp;
let dir: string;
let files: SynthFiles;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

type Proc = Promise<Run> & { out(): string; err(): string };

function cli(args: string[], endpoint: string): Proc {
  const env = { PATH: process.env.PATH ?? '', ATAI_API_ENDPOINT: endpoint, ATAI_API_KEY: TEST_KEY, FTNODE_PROFILE: join(dir, 'no-profile.json') };
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { out: () => stdout, err: () => stderr });
}

/** The three kinds of line `jobs watch` prints (human form): an evaluation, the status line, the end. */
const VALUES = String.raw`[a-z_0-9]+ [\d.]+(?: [a-z_0-9]+ [\d.]+)*`;
const WATCH_LINES = [
  new RegExp(String.raw`^eval  step \d+(?: \(epoch \d+\))?  ${VALUES}$`),
  new RegExp(String.raw`^[A-Z]+(?: \([a-z_]+\))?(?:  step \d+\/\d+)?(?:  eta \d+ (?:s|min|h))?(?:  loss [\d.]+)?(?:  ${VALUES} @\d+(?: \(epoch \d+\))?)?$`),
  /^job \S+ ended [A-Z]+: .+ · best .+ · took [\w ]+; inference config \S+$/,
];
const lines = (r: Run): any[] => r.stdout.trim().split('\n').map((l) => JSON.parse(l));
const evalEvents = async (c: Client, id: string): Promise<Array<{ step: number; epoch?: number; metrics: Record<string, number> }>> =>
  ((await c.get(`${JOBS}/${id}/events?order=asc&limit=-1`)).body.data as Array<{ type: string; data: any }>).filter((e) => e.type === 'eval_finished').map((e) => e.data);

before(async () => {
  t = await startTestApp({ plans: { attach: { steps: 8, evalEvery: 2, gates: ['step_5'] }, early: { steps: 8, evalEvery: 2, earlyStopAt: 5, gates: ['step_3', 'final_eval'] } } });
  dir = mkdtempSync(join(tmpdir(), 'ftnode-cli-watch-'));
  files = await writeSynthetic(2, 300, 1);
  for (const f of [...files.train, ...files.val]) assert.equal((await t.client.upload(f.file_id, readFileSync(f.path), 'text/csv')).status, 200);
  assert.equal((await t.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
});

after(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
  if (files) rmSync(files.dir, { recursive: true, force: true });
});

test('watch: an Omega job reports each evaluation once, on the optimizer-step axis, with macro_f1; the end line and jobs get summarise it', async () => {
  const entry = (f: { file_id: string; label: string }) => ({ file_id: f.file_id, label: f.label });
  // patience 1: the synthetic problem is learnt in an epoch or two, so the run stops early.
  const body = { model: 'omega', seed: 3, method: { type: 'head', head: { hyperparameters: { n_epochs: 30, patience: 1, batch_size: 16, num_features: 840 }, reader: { window_size: 32, step_size: 4 } } }, training_files: files.train.map(entry), validation_files: files.val.map(entry) };
  writeFileSync(join(dir, 'omega.json'), JSON.stringify(body));
  const r = await cli(['jobs', 'create', '--file', join(dir, 'omega.json'), '--wait', '--json'], t.app.url);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const msgs = lines(r);
  const id = msgs[0].id as string;
  const events = await evalEvents(t.client, id);
  const evals = msgs.filter((m) => m.type === 'eval');
  assert.ok(events.length >= 2, 'at least two evaluations');
  assert.deepEqual(evals.map((e) => e.step), events.map((e) => e.step), 'every evaluation once, in order');
  assert.ok(evals.every((e) => typeof e.metrics.macro_f1 === 'number' && typeof e.metrics.eval_accuracy === 'number' && !('epoch' in e.metrics) && !('eval_epoch' in e.metrics)));

  // One step axis: the evaluation after epoch e is at optimizer step e × steps per epoch.
  const hpEvent = ((await t.client.get(`${JOBS}/${id}/events?order=asc&limit=-1`)).body.data as Array<{ type: string; data: any }>).find((e) => e.type === 'hyperparameters')!;
  const perEpoch = Math.ceil(hpEvent.data.values.n_train_windows / 16);
  assert.deepEqual(hpEvent.data.user_set.sort(), ['batch_size', 'n_epochs', 'num_features', 'patience']);
  assert.deepEqual(evals.map((e) => e.step), evals.map((e) => e.epoch * perEpoch));
  const page = (await t.client.get(`${JOBS}/${id}/metrics`)).body;
  const metrics = page.metrics as Array<Record<string, number>>;
  // Checkpoints keep epoch steps (step_<epoch>); the listing places each on the metrics axis.
  assert.ok(page.checkpoints.length >= 1);
  for (const c of page.checkpoints) assert.equal(c.metrics_step, c.step * perEpoch);
  for (const e of evals) {
    const row = metrics.find((m) => m.step === e.step)!;
    assert.equal(row.macro_f1, e.metrics.macro_f1);
    assert.equal(row.epoch, e.epoch, 'epoch is a field of the entry');
    assert.equal(typeof row.loss, 'number', 'the last loss report of the epoch shares its step');
  }
  assert.ok(metrics.every((m) => !('eval_epoch' in m)));
  const statusWithEval = msgs.filter((m) => m.type === 'status' && m.eval);
  assert.ok(statusWithEval.length > 0 && statusWithEval.every((m) => typeof m.eval.macro_f1 === 'number'), 'the status line carries macro_f1');

  const end = msgs.at(-1);
  assert.equal(end.type, 'end');
  assert.equal(end.summary.outcome, 'early_stopped');
  const ckpts = (await t.client.get(`${JOBS}/${id}/checkpoints`)).body.data as Array<{ id: string; step: number; metrics: Record<string, number> }>;
  const top = ckpts.reduce((a, b) => (b.step > a.step ? b : a));
  assert.deepEqual([end.summary.best.metric, end.summary.best.checkpoint_id, end.summary.best.value], ['macro_f1', top.id, top.metrics.macro_f1]);
  const last = events.at(-1)!;
  assert.match(end.summary.reason, new RegExp(`^early stop at epoch ${last.epoch} of 30: no macro-F1 gain for 1 epochs`));
  assert.equal(typeof end.summary.duration_seconds, 'number');

  const human = await cli(['jobs', 'watch', id], t.app.url);
  assert.equal(human.code, 0);
  const evalLines = human.stdout.split('\n').filter((l) => l.startsWith('eval '));
  assert.equal(evalLines.length, events.length);
  assert.match(evalLines[0]!, new RegExp(`^eval  step ${perEpoch} \\(epoch 1\\)  macro_f1 [\\d.]+ eval_accuracy`));
  assert.match(human.stdout, new RegExp(`job ${id} ended COMPLETED: early stop at epoch ${last.epoch} of 30: .* · best macro_f1 [\\d.]+ at ${top.id} \\(step ${top.step}\\) · took [\\w ]+; inference config `));
  // The lines watch prints have the shapes docs/cli.md shows, and the doc's example has no other.
  const doc = readFileSync(fileURLToPath(new URL('../../docs/cli.md', import.meta.url)), 'utf8');
  const example = /### Watching a job[\s\S]*?```\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
  const printed = human.stdout.trim().split('\n');
  for (const line of [...printed, ...example]) assert.ok(WATCH_LINES.some((re) => re.test(line)), `a watch line of no documented shape: ${line}`);
  for (const re of WATCH_LINES) assert.ok(example.some((l) => re.test(l)) && printed.some((l) => re.test(l)), `${re} is both printed and documented`);
  const get = await cli(['jobs', 'get', id], t.app.url);
  assert.match(get.stdout, /^result\s+COMPLETED: early stop at epoch \d+ of 30/m);
  assert.match(get.stdout, new RegExp(`^best\\s+macro_f1 [\\d.]+ at ${top.id}`, 'm'));
  assert.match(get.stdout, /^duration\s+\d+ (s|min \d+ s)$/m);
});

test('watch attached mid-run reports every evaluation exactly once, the past ones first', async () => {
  const job = (await t.client.call('POST', JOBS, jobBody('fixture-attach', 'data.jsonl'))).body;
  await t.gates.reached(job.id, 'step_5'); // evaluations at steps 2 and 4 are recorded
  const watch = cli(['jobs', 'watch', job.id, '--json'], t.app.url);
  await waitFor('the watch to replay the evaluation at step 4', () => watch.out().includes('"type":"eval","job_id":"' + job.id + '","step":4'));
  t.gates.open(job.id, 'step_5');
  const r = await watch;
  assert.equal(r.code, 0, r.stderr);
  const seen = lines(r).filter((m) => m.type === 'eval').map((m) => m.step);
  assert.deepEqual(seen, (await evalEvents(t.client, job.id)).map((e) => e.step));
  assert.deepEqual(seen, [2, 4, 6, 8]);
});

test('early stop: step N of M and the remaining time say the loop ended; the summary names the epoch', async () => {
  const job = (await t.client.call('POST', JOBS, jobBody('fixture-early', 'data.jsonl'))).body;
  await t.gates.reached(job.id, 'step_3');
  // Steps 1 and 2 were reported and the evaluation at 2 writes progress at once: the pace gives a remaining time.
  const running = await waitFor('a remaining time', async () => {
    const j = await t.client.job(job.id);
    return typeof j.progress?.eta_seconds === 'number' ? j : null;
  });
  assert.equal(running.progress.total_steps, 8);
  t.gates.open(job.id, 'step_3');
  await t.gates.reached(job.id, 'final_eval');
  const finalizing = await waitFor('FINALIZING', async () => {
    const j = await t.client.job(job.id);
    return j.status === 'FINALIZING' ? j : null;
  });
  assert.deepEqual([finalizing.progress.step, finalizing.progress.total_steps, finalizing.progress.eta_seconds], [5, 5, 0]);
  t.gates.open(job.id, 'final_eval');
  const r = await cli(['jobs', 'watch', job.id, '--json'], t.app.url);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lines(r).at(-1).summary.reason, 'early stop at epoch 5: fixture plan');
});

test('watch rides out a server restart (exit 0 when the job completes) and exits 5 stream_lost when --reconnect-for is spent', async () => {
  const home = mkdtempSync(join(tmpdir(), 'ftnode-watch-restart-'));
  const gates = new Gates(mkdtempSync(join(tmpdir(), 'ftnode-watch-gates-')));
  const servers: ServerProcess[] = [];
  try {
    writeServerConfig(home, gates.dir, { restart: { steps: 6, evalEvery: 2, gates: ['step_3'], gateAttempts: [1] } });
    const first = await startServerProcess(home);
    servers.push(first);
    const c = new Client(first.url);
    assert.equal((await c.upload('data.jsonl', '{"x":1}\n')).status, 200);
    const id = (await c.call('POST', JOBS, jobBody('fixture-restart', 'data.jsonl', { id: 'restart-job' }))).body.id as string;
    await gates.reached(id, 'step_3');
    const patient = cli(['jobs', 'watch', id, '--json'], first.url);
    const impatient = cli(['jobs', 'watch', id, '--json', '--reconnect-for', '1'], first.url);
    await waitFor('both watches to be connected', () => patient.out().includes('"type":"status"') && impatient.out().includes('"type":"status"'));
    await killHard(first);
    const lost = await impatient;
    assert.equal(lost.code, 5, `${lost.stdout}\n${lost.stderr}`);
    assert.match(lost.stderr, /^error stream_lost: lost the event stream of job restart-job for \d+ s/m);
    await waitFor('the patient watch to be retrying', () => /reconnecting \(try 1\)/.test(patient.err()));
    const second = await startServerProcess(home, {}, Number(new URL(first.url).port));
    servers.push(second);
    const r = await patient;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /note: lost the event stream of restart-job/);
    assert.match(r.stderr, /note: reconnected to the event stream of restart-job/);
    const evals = lines(r).filter((m) => m.type === 'eval').map((m) => m.step);
    assert.deepEqual(evals, (await evalEvents(new Client(second.url), id)).map((e) => e.step), 'each evaluation once across the restart');
    assert.equal(lines(r).at(-1).status, 'COMPLETED');
  } finally {
    for (const s of servers) await killHard(s);
    rmSync(home, { recursive: true, force: true });
    rmSync(gates.dir, { recursive: true, force: true });
  }
});
