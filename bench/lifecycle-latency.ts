/**
 * Lifecycle latencies of the built-in worker pool (a real app: startApp on a temp home, port 0, one
 * idle built-in worker slot, HTTP through fetch, trainers as real child processes):
 *
 * 1. create → STARTING (`--creates`, default 50 jobs, one at a time, the worker idle before each):
 *    timestamps are taken on `app.bus` 'job-changed' (the in-process notification every status write
 *    emits, the same one the worker pool and SSE listen to), so nothing polls. Reported: create
 *    request sent → STARTING (the headline, target p50 < 20 ms), the job's REGISTERED commit →
 *    STARTING (the worker's wake-up + claim alone), and create response received → STARTING (negative
 *    when the claim commits before the HTTP response reaches the client, which is the usual case).
 * 2. stop → STOPPED (`--stops`, default 10): a fixture trainer (test/fixtures/gated-trainer.ts) holds
 *    its evaluation at gate `eval_2`; the bench sends PUT stop, keeps the evaluation running for
 *    `--eval-ms` (default 200 ms), then ends it by opening the gate at a known instant T. Reported:
 *    STOPPED − T (target < 200 ms; includes ≤ 5 ms of the fixture's gate-file polling), STOPPED − the
 *    worker's receipt of eval_end (first 'job-touched' after T), and stop response → STOPPED
 *    (= the evaluation still in progress + the overhead).
 * 3. cancel → trainer process gone (`--cancels`, default 20): the fixture trainer waits at gate
 *    `step_2` (pid from the gate file); PUT cancel; then `kill(pid, 0)` every 1 ms until it fails.
 *    Reported from the cancel response (target < 500 ms) and from the request.
 * Baseline in the same run (`--baseline`, default 20): the bare cost of a `node -e` child — spawn →
 * first stdout line, and SIGKILL to its process group → pid gone (same 1 ms polling). Ratios are
 * printed against spawn + kill (and cancel against kill alone).
 *   node dist/bench/lifecycle-latency.js [--creates 50] [--stops 10] [--cancels 20] [--baseline 20]
 *     [--eval-ms 200] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { JobStatus } from '../src/domain/status.js';
import { isTerminal } from '../src/domain/status.js';
import { jobBody, startTestApp, type TestApp } from '../test/helpers/harness.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { pidAlive, waitGone } from './lib/proc.js';
import { ms, ratio, summarize, table, type Summary } from './lib/stats.js';

const opts = parseArgs({ creates: 50, stops: 10, cancels: 20, baseline: 20, evalMs: 200, json: '' });

const PLANS = {
  quick: { steps: 1, evalEvery: 100 }, // claims, runs a moment, completes
  stopper: { steps: 6, evalEvery: 2, gates: ['eval_2'] },
  canceller: { steps: 6, evalEvery: 2, gates: ['step_2'] },
};

/** First time each (job uuid, status) and each 'job-touched' is seen on the bus, in performance.now() ms. */
class BusClock {
  private readonly status = new Map<string, number>();
  private readonly touched = new Map<string, number[]>();
  private readonly waiters = new Map<string, Array<(t: number) => void>>();
  constructor(t: TestApp) {
    t.app.bus.on('job-changed', (j) => {
      const now = performance.now();
      const key = `${j.uuid}:${j.status}`;
      if (!this.status.has(key)) this.status.set(key, now);
      for (const w of this.waiters.get(key) ?? []) w(now);
      this.waiters.delete(key);
    });
    t.app.bus.on('job-touched', (uuid) => {
      const list = this.touched.get(uuid) ?? [];
      list.push(performance.now());
      this.touched.set(uuid, list);
    });
  }
  at(uuid: string, status: JobStatus): number | undefined {
    return this.status.get(`${uuid}:${status}`);
  }
  when(uuid: string, status: JobStatus, timeoutMs = 30_000): Promise<number> {
    const seen = this.at(uuid, status);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${uuid} never reached ${status}`)), timeoutMs);
      const key = `${uuid}:${status}`;
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), (t) => (clearTimeout(timer), resolve(t))]);
    });
  }
  firstTouchAfter(uuid: string, t: number): number | undefined {
    return this.touched.get(uuid)?.find((x) => x >= t);
  }
}

/** Waits (event-driven where possible) until the job is terminal and the worker slot is idle again. */
async function settle(t: TestApp, id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const j = await t.client.job(id);
    if (isTerminal(j.status) && t.app.pool!.activeJobs === 0) break;
    if (Date.now() > deadline) throw new Error(`job ${id} did not settle (${j.status}, ${t.app.pool!.activeJobs} active)`);
    await new Promise((r) => setTimeout(r, 5));
  }
  // Let the slot's loop go back to sleep on its wake signal (the state "idle worker" means).
  await new Promise((r) => setTimeout(r, 30));
}

async function createOne(t: TestApp, fileId: string, model: string): Promise<{ job: { id: string; uuid: string }; sent: number; received: number }> {
  const sent = performance.now();
  const res = await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody(model, fileId));
  const received = performance.now();
  if (res.status !== 201) throw new Error(`create returned ${res.status}: ${JSON.stringify(res.body)}`);
  return { job: res.body as { id: string; uuid: string }, sent, received };
}

// ---- 1. create → STARTING

async function benchCreate(t: TestApp, bus: BusClock, fileId: string) {
  const fromSend: number[] = [], fromCommit: number[] = [], fromResponse: number[] = [];
  let beforeResponse = 0;
  for (let i = 0; i < opts.creates; i++) {
    const { job, sent, received } = await createOne(t, fileId, 'fixture-quick');
    const starting = await bus.when(job.uuid, 'STARTING');
    const registered = bus.at(job.uuid, 'REGISTERED')!;
    fromSend.push(starting - sent);
    fromCommit.push(starting - registered);
    fromResponse.push(starting - received);
    if (starting < received) beforeResponse++;
    await settle(t, job.id);
  }
  return { fromSend: summarize(fromSend), fromCommit: summarize(fromCommit), fromResponse: summarize(fromResponse), beforeResponse };
}

// ---- 2. stop → STOPPED

async function benchStop(t: TestApp, bus: BusClock, fileId: string) {
  const afterEvalEnd: number[] = [], afterWorkerSaw: number[] = [], fromStopResponse: number[] = [];
  for (let i = 0; i < opts.stops; i++) {
    const { job } = await createOne(t, fileId, 'fixture-stopper');
    await t.gates.reached(job.id, 'eval_2');
    const stop = await t.client.call('PUT', `/v0.5/fine-tune/jobs/${job.id}/stop`);
    const stopResp = performance.now();
    if (stop.status !== 200 || stop.body.status !== 'STOPPING') throw new Error(`stop returned ${stop.status} ${stop.body.status}`);
    // The evaluation keeps running for a known time after the stop request...
    await new Promise((r) => setTimeout(r, opts.evalMs));
    // ...and ends at a known instant.
    const evalEnd = performance.now();
    t.gates.open(job.id, 'eval_2');
    const stopped = await bus.when(job.uuid, 'STOPPED');
    afterEvalEnd.push(stopped - evalEnd);
    afterWorkerSaw.push(stopped - (bus.firstTouchAfter(job.uuid, evalEnd) ?? NaN));
    fromStopResponse.push(stopped - stopResp);
    await settle(t, job.id);
  }
  return { afterEvalEnd: summarize(afterEvalEnd), afterWorkerSaw: summarize(afterWorkerSaw), fromStopResponse: summarize(fromStopResponse) };
}

// ---- 3. cancel → process gone

async function benchCancel(t: TestApp, bus: BusClock, fileId: string) {
  const fromResponse: number[] = [], fromRequest: number[] = [];
  for (let i = 0; i < opts.cancels; i++) {
    const { job } = await createOne(t, fileId, 'fixture-canceller');
    const pid = await t.gates.reached(job.id, 'step_2');
    if (!pidAlive(pid)) throw new Error(`trainer ${pid} not alive at step_2`);
    const sent = performance.now();
    const res = await t.client.call('PUT', `/v0.5/fine-tune/jobs/${job.id}/cancel`);
    const received = performance.now();
    if (res.status !== 200 || res.body.status !== 'CANCELLED') throw new Error(`cancel returned ${res.status} ${res.body.status}`);
    const gone = await waitGone(pid, 1);
    fromResponse.push(Math.max(0, gone - received));
    fromRequest.push(gone - sent);
    await bus.when(job.uuid, 'CANCELLED');
    await settle(t, job.id);
  }
  return { fromResponse: summarize(fromResponse), fromRequest: summarize(fromRequest) };
}

// ---- baseline: a bare node -e child

async function benchBaseline() {
  const spawnReady: number[] = [], killGone: number[] = [];
  for (let i = 0; i < opts.baseline; i++) {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', "process.stdout.write('ready\\n'); setInterval(() => {}, 1e9)"], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      createInterface({ input: child.stdout! }).once('line', () => resolve());
    });
    spawnReady.push(performance.now() - t0);
    const k0 = performance.now();
    process.kill(-child.pid!, 'SIGKILL'); // the process group, as TrainerProcess.kill() does
    const gone = await waitGone(child.pid!, 1);
    killGone.push(gone - k0);
  }
  return { spawnReady: summarize(spawnReady), killGone: summarize(killGone) };
}

const row = (what: string, s: Summary, target: string, met: boolean | null, base?: number): Array<string> =>
  [what, String(s.n), ms(s.p50), ms(s.p99), ms(s.max), base && s.p50 >= 0 ? ratio(s.p50 / base) : '', target, met === null ? '' : met ? 'met' : 'MISSED'];

async function main(): Promise<void> {
  console.log(`lifecycle-latency: ${machineLine()}`);
  console.log(`options: ${JSON.stringify(opts)}`);
  const base = await benchBaseline();
  const t = await startTestApp({ plans: PLANS, overrides: { builtinWorkers: 1 } });
  try {
    const bus = new BusClock(t);
    const fileId = 'train.jsonl'; // v0.5 file ids are the uploaded names
    const up = await t.client.upload(fileId, '{"x":1}\n');
    if (up.status !== 200) throw new Error(`upload returned ${up.status}`);
    await createOne(t, fileId, 'fixture-quick').then(({ job }) => settle(t, job.id)); // warm-up: JIT, first spawn
    const create = await benchCreate(t, bus, fileId);
    const stop = await benchStop(t, bus, fileId);
    const cancel = await benchCancel(t, bus, fileId);

    const bare = base.spawnReady.p50 + base.killGone.p50;
    const rows = [
      row('baseline: node -e spawn → first stdout line', base.spawnReady, '', null),
      row('baseline: SIGKILL → pid gone', base.killGone, '', null),
      row('create request sent → STARTING', create.fromSend, 'p50 < 20 ms', create.fromSend.p50 < 20, bare),
      row('REGISTERED committed → STARTING (wake-up + claim)', create.fromCommit, '', null, bare),
      row(`create response → STARTING (${create.beforeResponse}/${opts.creates} before the response)`, create.fromResponse, '', null, bare),
      row('eval end (gate opened) → STOPPED', stop.afterEvalEnd, '< 200 ms', stop.afterEvalEnd.p99 < 200, bare),
      row('eval_end received by the worker → STOPPED', stop.afterWorkerSaw, '', null, bare),
      row(`stop response → STOPPED (eval held ${opts.evalMs} ms)`, stop.fromStopResponse, `${opts.evalMs} + < 200 ms`, stop.fromStopResponse.p99 < opts.evalMs + 200, bare),
      row('cancel response → trainer pid gone', cancel.fromResponse, '< 500 ms', cancel.fromResponse.p99 < 500, base.killGone.p50),
      row('cancel request sent → trainer pid gone', cancel.fromRequest, '', null, base.killGone.p50),
    ];
    console.log(`\nbaseline spawn + kill of a bare node -e child: p50 ${ms(bare)} ms (ratios: p50 / that; the cancel rows: p50 / bare SIGKILL → gone)`);
    console.log(table(['latency', 'n', 'p50 ms', 'p99 ms', 'max ms', 'ratio', 'target', 'met'], rows));
    const out = { bench: 'lifecycle-latency', options: opts, baseline: base, create, stop, cancel };
    console.log(`RESULT ${JSON.stringify(out)}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  } finally {
    await t.close();
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e);
  process.exit(1);
});
