/**
 * The batch-msc trainer against the protocol conformance checker (output files verified against
 * their reported size and sha256; threads and the main thread produce the same bytes), its resume
 * rule (inputs whose outputs were committed are skipped), and a lost worker at the HTTP level: the
 * lease expires (manual clock), the job is re-queued and the next attempt classifies only what is
 * left, keeping the output committed before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TRAINER_ENTRY } from '../src/app/app.js';
import { ManualClock } from '../src/lib/clock.js';
import { runConformance } from '../src/trainers/conformance.js';
import { PROTOCOL_VERSION, type TrainerMessage, type TrainerSpec } from '../src/trainers/protocol.js';
import { syntheticCsv, writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { processAlive, startTestApp, waitFor } from './helpers/harness.js';

const node = [process.execPath];

async function batchSpec(files: SynthFiles, parallelism: number, resources?: TrainerSpec['resources']): Promise<TrainerSpec> {
  const work_dir = await mkdtemp(join(tmpdir(), 'ftnode-batch-proto-'));
  return {
    protocol: PROTOCOL_VERSION, job_id: 'job_test', attempt: 1, model: 'machine-state-classification', trainer: 'batch-msc', seed: 0, work_dir, resume: null,
    config: {
      parameters: { worker: { parallelism, config: { reader_config: { window_size: 32, step_size: 4 }, classifier_config: { n_neighbors: 3 }, batch_size: 16 } } },
      outputs: files.val.map((f) => ({ input_file_id: f.file_id, filename: `t_output_${f.file_id}` })),
    },
    datasets: [
      { name: 'worker.inference', split: 'eval', files: files.val.map(({ file_id, path }) => ({ file_id, path })) },
      { name: 'worker.n_shots', split: 'train', files: files.train },
    ],
    ...(resources ? { resources } : {}),
  };
}

const outputs = (m: TrainerMessage[]): Array<Extract<TrainerMessage, { type: 'output' }>> => m.filter((x): x is Extract<TrainerMessage, { type: 'output' }> => x.type === 'output');

test('batch-msc conforms; two threads write byte-identical outputs to the main thread', async () => {
  const files = await writeSynthetic(2, 300, 2);
  const one = await batchSpec(files, 1);
  const runOne = await runConformance([...node, TRAINER_ENTRY], one);
  assert.deepEqual(runOne.violations, []);
  assert.equal(runOne.exitCode, 0);
  const two = await batchSpec(files, 2);
  const runTwo = await runConformance([...node, TRAINER_ENTRY], two);
  assert.deepEqual(runTwo.violations, []);
  assert.deepEqual(outputs(runOne.messages).map((o) => o.filename), files.val.map((f) => `t_output_${f.file_id}`));
  for (const o of outputs(runOne.messages)) {
    const other = outputs(runTwo.messages).find((x) => x.filename === o.filename)!;
    assert.equal(other.sha256, o.sha256);
    assert.deepEqual(await readFile(join(two.work_dir, o.path)), await readFile(join(one.work_dir, o.path)));
  }
  const entries = runOne.messages.filter((m) => m.type === 'metrics');
  assert.ok(entries.filter((m) => m.type === 'metrics' && m.values.input_completed === 1).length === 2);
});

test('resume: inputs whose outputs an earlier attempt committed are skipped', async () => {
  const files = await writeSynthetic(2, 200, 1);
  const spec = await batchSpec(files, 1, { committed_outputs: [{ filename: `t_output_${files.val[0]!.file_id}`, input_file_id: files.val[0]!.file_id }] });
  const run = await runConformance([...node, TRAINER_ENTRY], spec);
  assert.deepEqual(run.violations, []);
  assert.deepEqual(outputs(run.messages).map((o) => o.input_file_id), [files.val[1]!.file_id]);
  assert.ok(run.messages.some((m) => m.type === 'log' && /resuming: 1 of 2 outputs/.test(m.message)));
});

test('a lost worker: lease expires → PENDING → the next attempt classifies only the inputs left', async () => {
  const LEASE_MS = 30_000;
  const clock = new ManualClock(Date.now());
  const t = await startTestApp({ overrides: { leaseMs: LEASE_MS, heartbeatMs: 50 }, app: { clock, reaperTimer: false } });
  try {
    const files = await writeSynthetic(2, 200, 1);
    const big = join(files.dir, 'long.csv');
    await writeFile(big, syntheticCsv(0, 40_000, 9));
    for (const f of [...files.train, files.val[0]!]) await t.client.upload(f.file_id, await readFile(f.path), 'text/csv');
    await t.client.upload('long.csv', await readFile(big), 'text/csv');
    const r = await t.client.call('POST', '/v0.5/batch/jobs', {
      name: 'lost', pipeline_key: 'machine-state-classification',
      inputs: { 'worker.inference': [{ file_id: files.val[0]!.file_id }, { file_id: 'long.csv' }], 'worker.n_shots': files.train.map((f) => ({ file_id: f.file_id, metadata: { class: f.label } })) },
      parameters: { worker: { config: { reader_config: { window_size: 32, step_size: 1 }, batch_size: 64 } } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = r.body.id;
    const messages = async (): Promise<string> => (await t.client.get(`/v0.5/batch/jobs/${id}/events?limit=-1`)).body.events.map((e: { message: string }) => e.message).join('\n');
    await waitFor('the first output, and the long input begun', async () =>
      (await t.client.get(`/v0.5/batch/jobs/${id}/outputs`)).body.total === 1 && (await t.client.get(`/v0.5/batch/jobs/${id}/progress?limit=-1`)).body.entries.some((e: { index: number }) => e.index === 1));
    const pid = Number(/batch-msc pid (\d+)/.exec(await messages())![1]);
    await t.app.pool!.stop(); // the worker vanishes: its trainer dies, its attempt stays active
    await waitFor('trainer gone', () => !processAlive(pid));
    clock.advance(LEASE_MS + 1);
    assert.equal((await t.app.recovery.tick()).requeued, 1);
    assert.equal((await t.client.get(`/v0.5/batch/jobs/${id}`)).body.status, 'PENDING');
    t.app.pool!.start();
    await waitFor('completed', async () => (await t.client.get(`/v0.5/batch/jobs/${id}`)).body.status === 'COMPLETED', 60_000);
    const outs = (await t.client.get(`/v0.5/batch/jobs/${id}/outputs`)).body.outputs.map((o: { data: { filename: string } }) => o.data.filename);
    assert.deepEqual(outs, [`lost_output_${files.val[0]!.file_id.replace(/\.csv$/, '')}.csv`, 'lost_output_long.csv']);
    const csv = (await t.client.get(`/v0.5/batch/jobs/${id}/outputs/lost_output_long.csv`)).body as string;
    assert.equal(csv.trimEnd().split('\n').length, 1 + 40_000 - 32 + 1);
    const text = await messages();
    assert.match(text, /resuming: 1 of 2 outputs were committed by an earlier attempt/);
    assert.equal(text.match(/Output lost_output_class/g)?.length, 1, 'the first output was committed once');
  } finally {
    await t.close();
  }
});
