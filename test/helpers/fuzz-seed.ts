/**
 * Real resources for the route fuzzer, so that requests with ids hit something: for our organization
 * a training file, two time-series CSVs, a COMPLETED job with a checkpoint and an inference config
 * (trained by the built-in worker pool on the fixture trainer, which is then stopped so that jobs the
 * fuzzer creates stay REGISTERED and no trainer process competes for the 2 CPUs), a REGISTERED job, a
 * job claimed through the worker API (a real attempt and lease token), a v0.6 job, a batch job and an
 * open direct upload with a signed part URL; for another organization a file, a job and an upload.
 *
 * The fuzzer names these symbolically (`own.job`, `other.file`, …) and resolves the names at send
 * time, so a resource it deleted or finished is re-created (ensure()) and later requests still hit one.
 */
import assert from 'node:assert/strict';
import { syntheticCsv } from '../../src/trainers/timeseries/test-helpers.js';
import { Client, jobBody, TEST_KEY, waitFor, type TestApp } from './harness.js';

export const OWN_FILE = 'fuzz-train.jsonl';
export const OWN_CSV = ['fuzz-class0.csv', 'fuzz-class1.csv'] as const;
/** Names the fuzzer never generates for uploads of its own, so another org's name stays another org's. */
export const OTHER_FILE = 'other-org-private.jsonl';
export const WORKER_ID = 'remote:fuzz:00ff:0';
export const WORKER_PREFIX = 'remote:fuzz:';
const TRAIN_TEXT = '{"prompt":"a","completion":"b"}\n{"prompt":"c","completion":"d"}\n';

export interface Fence {
  attempt_id: string;
  lease_token: number;
}

export class Seeds {
  readonly own: Client;
  readonly other: Client;
  ownOrg = '';
  otherOrg = '';
  otherKey = '';
  workerToken = '';
  values: Record<string, unknown> = {};
  private uploadSeq = 0;

  constructor(readonly t: TestApp) {
    this.own = t.client;
    this.other = new Client(t.app.url, null);
  }

  /** Everything the fuzzer's references name; call once before fuzzing. */
  async create(): Promise<void> {
    const { app } = this.t;
    this.ownOrg = (await app.auth.authenticate(`Bearer ${TEST_KEY}`))!.org.uuid;
    const other = await app.auth.createKey('fuzz-other-org', 'fuzz');
    this.otherKey = other.key;
    this.otherOrg = other.org.uuid;
    (this.other as { key: string | null }).key = other.key;
    this.workerToken = (await app.workerTokens.create('fuzz')).token;

    await this.uploadOk(this.own, OWN_FILE, TRAIN_TEXT);
    for (const [i, name] of OWN_CSV.entries()) await this.uploadOk(this.own, name, syntheticCsv(i, 200, i + 1), 'text/csv');
    const done = await this.createJob(this.own, 'fuzz-completed');
    await this.own.waitStatus(done, ['COMPLETED'], 60_000);
    await app.pool?.stop(); // from here on no job runs: what the fuzzer creates stays REGISTERED
    const ckpts = (await this.own.get(`/v0.5/fine-tune/jobs/${done}/checkpoints`)).body.data;
    assert.ok(ckpts.length > 0, 'the completed job has a checkpoint');
    this.values['own.completedJob'] = done;
    this.values['own.checkpoint'] = ckpts[0].id;

    const first = await this.createJob(this.own, 'fuzz-claimed');
    await this.claim();
    assert.equal(this.values['own.claimedJob'], first, 'the claim took the seeded job');
    this.values['own.job'] = await this.createJob(this.own, 'fuzz-registered');
    const v06 = await this.own.call('POST', '/v0.6/fine_tuning/jobs', v06Body());
    assert.equal(v06.status, 201, JSON.stringify(v06.body));
    this.values['own.v06Job'] = v06.body.id;
    const batch = await this.own.call('POST', '/v0.5/batch/jobs', batchBody());
    assert.equal(batch.status, 201, JSON.stringify(batch.body));
    this.values['own.batchJob'] = batch.body.id;
    await this.initiate(this.own, 'own');

    await this.uploadOk(this.other, OTHER_FILE, TRAIN_TEXT);
    this.values['other.job'] = await this.createJob(this.other, 'other-org-job');
    await this.initiate(this.other, 'other');
    this.values['own.file'] = OWN_FILE;
    this.values['own.csv0'] = OWN_CSV[0];
    this.values['own.csv1'] = OWN_CSV[1];
    this.values['other.file'] = OTHER_FILE;
    this.values['worker.id'] = WORKER_ID;
    this.values['worker.prefix'] = WORKER_PREFIX;
  }

  resolve(ref: string): unknown {
    if (!(ref in this.values)) throw new Error(`unknown fuzz reference ${ref}`);
    return this.values[ref];
  }

  /**
   * After a mutating request succeeded: bring back what it deleted, finished or superseded. Existence
   * is asked of the services directly (one call each, no HTTP round trip); what is missing is
   * re-created through the API like the first time.
   */
  async ensure(touchedUploads: boolean): Promise<void> {
    const { files, jobs } = this.t.app;
    const exists = (p: Promise<unknown>): Promise<boolean> => p.then(() => true, () => false);
    const status = (org: string, ref: string, family?: 'batch'): Promise<string | null> =>
      jobs.get(org, String(this.values[ref]), family).then((j) => j.status, () => null);
    if (!(await exists(files.get(this.ownOrg, OWN_FILE)))) await this.uploadOk(this.own, OWN_FILE, TRAIN_TEXT);
    for (const [i, name] of OWN_CSV.entries()) {
      if (!(await exists(files.get(this.ownOrg, name)))) await this.uploadOk(this.own, name, syntheticCsv(i, 200, i + 1), 'text/csv');
    }
    if (!(await exists(files.get(this.otherOrg, OTHER_FILE)))) await this.uploadOk(this.other, OTHER_FILE, TRAIN_TEXT);
    if ((await status(this.ownOrg, 'own.job')) !== 'REGISTERED') this.values['own.job'] = await this.createJob(this.own, 'fuzz-registered');
    if ((await status(this.otherOrg, 'other.job')) === null) this.values['other.job'] = await this.createJob(this.other, 'other-org-job');
    if ((await status(this.ownOrg, 'own.batchJob', 'batch')) === null) {
      this.values['own.batchJob'] = (await this.own.call('POST', '/v0.5/batch/jobs', batchBody())).body.id;
    }
    const claimed = await status(this.ownOrg, 'own.claimedJob');
    if (!['STARTING', 'RUNNING', 'STOPPING'].includes(claimed ?? '')) await this.claim(); // whichever REGISTERED job is first in line
    if (touchedUploads) {
      await this.initiate(this.own, 'own');
      await this.initiate(this.other, 'other');
    }
  }

  private async uploadOk(c: Client, name: string, text: string, type = 'text/plain'): Promise<void> {
    const r = await c.upload(name, text, type);
    assert.equal(r.status, 200, `seed upload ${name}: ${JSON.stringify(r.body)}`);
  }

  private async createJob(c: Client, name: string): Promise<string> {
    const file = c === this.own ? OWN_FILE : OTHER_FILE;
    const r = await c.call('POST', '/v0.5/fine-tune/jobs', { ...jobBody('fixture-ok', file), name });
    assert.equal(r.status, 201, `seed job ${name}: ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }

  /** Claims the first REGISTERED job in line as the fuzz worker; it becomes own.claimedJob if it is ours. */
  private async claim(): Promise<void> {
    const r = await fetch(`${this.t.app.url}/v1/worker/claim`, {
      method: 'POST', headers: { authorization: `Bearer ${this.workerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ worker_id: WORKER_ID, wait_ms: 0 }),
    });
    const body = (await r.json()) as { work: { fence: Fence; job: { id: string; datasets: Array<{ files: Array<{ file_uid: string }> }> } } | null };
    if (!body.work || (await this.own.get(`/v0.5/fine-tune/jobs/${body.work.job.id}`)).status !== 200) return;
    this.values['own.claimedJob'] = body.work.job.id;
    this.values['own.fence'] = body.work.fence;
    this.values['own.attempt'] = body.work.fence.attempt_id;
    this.values['own.leaseToken'] = String(body.work.fence.lease_token);
    this.values['own.fileUid'] = body.work.job.datasets[0]!.files[0]!.file_uid;
  }

  /** A fresh open direct upload (10 bytes, one part, sent) with its signed part URL's query and the part's token. */
  private async initiate(c: Client, who: 'own' | 'other'): Promise<void> {
    const r = await c.call('POST', '/v0.5/files/uploads/initiate', { filename: `${who}-direct-${++this.uploadSeq}.bin`, file_type: 'application/octet-stream', num_bytes: 10 });
    assert.equal(r.status, 200, `seed initiate: ${JSON.stringify(r.body)}`);
    this.values[`${who}.upload`] = r.body.upload_id;
    const url = new URL(r.body.parts[0].url as string);
    this.values[`${who}.partQuery`] = url.search.slice(1);
    // Part 0 sent, so checkpoint and complete with its token can succeed.
    const put = await fetch(url, { method: 'PUT', body: Buffer.alloc(10, 0x61) });
    assert.equal(put.status, 200, `seed part PUT: ${await put.text()}`);
    this.values[`${who}.partToken`] = (put.headers.get('etag') ?? '').replace(/"/g, '');
  }

  /** Waits until the server answers its health check (used after the fuzz run). */
  healthy(): Promise<boolean> {
    return waitFor('healthz', async () => (await this.own.get('/healthz')).status === 200, 10_000);
  }
}

export function v06Body(): Record<string, unknown> {
  const files = [{ file_id: OWN_CSV[0], label: 'class0' }, { file_id: OWN_CSV[1], label: 'class1' }];
  return { model: 'omega', training_files: files, validation_files: files };
}

export function batchBody(): Record<string, unknown> {
  return {
    name: 'fuzz-batch', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
    inputs: {
      'worker.inference': [{ file_id: OWN_CSV[0] }],
      'worker.n_shots': [{ file_id: OWN_CSV[0], metadata: { class: 'class0' } }, { file_id: OWN_CSV[1], metadata: { class: 'class1' } }],
    },
    parameters: { worker: { parallelism: 1, config: { reader_config: { window_size: 16, step_size: 4 } } } },
  };
}
