/**
 * Scale-out benchmarks (docs/benchmarks-scale.md), each with a baseline measured in the same run:
 *
 * 1. latency — create → STARTING with idle workers (`--creates`, default 100, one job at a time, the
 *    workers idle before each: for remote ones, every worker's claim is long-polling again). Times
 *    are taken on the control plane's bus (the claim's status write), from just before the create
 *    request is sent. Rows: the single-machine default (SQLite, in-process worker: the BASELINE),
 *    PostgreSQL with an in-process worker, PostgreSQL with 2 idle remote `ftnode worker` processes
 *    (the target: p50 < 30 ms).
 * 2. throughput — claim throughput on tiny jobs (a /bin/sh trainer: hello, done) with 1, 4 and 16
 *    workers (`--jobs`, default 200 per run): the jobs are queued first, then the workers start;
 *    jobs/s = jobs / (last COMPLETED − first STARTING). Remote: W `ftnode worker` processes on
 *    PostgreSQL; BASELINE: W in-process slots on PostgreSQL; `--rounds` (3) alternated runs, medians.
 * 3. loss — a worker lost mid-training → the job STARTING again on the other worker and resumed
 *    (RUNNING from its last checkpoint), with the default 30 s lease (`--trials`, default 3 each).
 *    SIGKILL: the session drops, recovery after the disconnect grace (6 s) — the target (< 15 s).
 *    BASELINE: SIGSTOP (the worker hangs, its connections stay open): only the lease catches it.
 *
 *   FTNODE_TEST_PG_URL=postgres://… node dist/bench/scale.js [--only latency|throughput|loss]
 *     [--creates 100] [--jobs 200] [--counts 1,4,16] [--rounds 3] [--trials 3] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { jobBody } from '../test/helpers/harness.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { maxOf, minOf, ms, ratio, summarize, table, type Summary } from './lib/stats.js';
import { addWorkers, startPlane, until, type Plane } from './scale-lib.js';

const opts = parseArgs({ only: '', creates: 100, jobs: 200, rounds: 3, trials: 3, counts: '1,4,16', json: '' });
const PG = process.env.FTNODE_TEST_PG_URL ?? null;
const results: Record<string, unknown> = {};
const want = (name: string): boolean => !opts.only || opts.only === name;

async function create(p: Plane, model: string, id?: string): Promise<{ id: string; uuid: string; sent: number }> {
  const sent = performance.now();
  const r = await p.t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody(model, 'data.jsonl', id ? { id } : {}));
  if (r.status !== 201) throw new Error(`create answered ${r.status}: ${JSON.stringify(r.body)}`);
  return { id: r.body.id, uuid: r.body.uuid, sent };
}

// ---- 1. create → STARTING

async function latencyRun(kind: 'sqlite-inproc' | 'pg-inproc' | 'pg-remote'): Promise<Summary> {
  const p = await startPlane({ pgUrl: kind === 'sqlite-inproc' ? null : PG, builtinWorkers: kind === 'pg-remote' ? 0 : 1 });
  try {
    if (kind === 'pg-remote') await addWorkers(p, 2);
    const idle = (): boolean => (kind === 'pg-remote' ? p.t.app.workerApi.waitingClaims === 2 : p.t.app.pool!.activeJobs === 0);
    const out: number[] = [];
    for (let i = 0; i < opts.creates + 5; i++) {
      await until('idle workers', idle);
      await new Promise((r) => setTimeout(r, 5)); // the slot's loop goes back to sleep (in-process) / the claim waits again (remote)
      const j = await create(p, 'tiny');
      const starting = await p.bus.when(j.uuid, 'STARTING');
      if (i >= 5) out.push(starting - j.sent); // 5 warm-up jobs (JIT, pool connections)
      await p.t.client.waitStatus(j.id, ['COMPLETED', 'FAILED']);
    }
    return summarize(out);
  } finally {
    await p.close();
  }
}

async function latency(): Promise<void> {
  const rows: Array<[string, Summary]> = [];
  for (const k of ['sqlite-inproc', 'pg-inproc', 'pg-remote'] as const) rows.push([k, await latencyRun(k)]);
  const base = rows[0]![1];
  console.log(`\n## create → STARTING, idle workers (${opts.creates} jobs each)\n`);
  console.log(table(['setup', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p50 vs baseline'], rows.map(([k, s]) => [k + (k === 'sqlite-inproc' ? ' (baseline)' : ''), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ratio(s.p50 / base.p50)])));
  results.latency = Object.fromEntries(rows);
}

// ---- 2. claim throughput

async function throughputRun(workers: number, remote: boolean): Promise<number> {
  const p = await startPlane({ pgUrl: PG, builtinWorkers: remote ? 0 : workers });
  try {
    await p.t.app.pool?.stop(); // queue first, then let the workers go
    const jobs = [];
    for (let i = 0; i < opts.jobs; i++) jobs.push(await create(p, 'tiny'));
    if (remote) await addWorkers(p, workers);
    else p.t.app.pool!.start();
    const done = await Promise.all(jobs.map((j) => p.bus.when(j.uuid, 'COMPLETED')));
    const first = minOf(jobs.map((j) => p.bus.at(j.uuid, 'STARTING')!));
    return opts.jobs / ((maxOf(done) - first) / 1000);
  } finally {
    await p.close();
  }
}

async function throughput(): Promise<void> {
  const rows: Array<[number, number, number]> = [];
  const med = (xs: number[]): number => summarize(xs).p50;
  for (const w of opts.counts.split(',').map(Number)) {
    const inproc: number[] = [], remote: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      // Alternated, medians reported: a shared machine's load drifts over minutes.
      inproc.push(await throughputRun(w, false));
      remote.push(await throughputRun(w, true));
    }
    rows.push([w, med(inproc), med(remote)]);
    results[`throughput_${w}`] = { inproc, remote };
  }
  console.log(`\n## claim throughput, tiny jobs (${opts.jobs} per run, PostgreSQL, median of ${opts.rounds} alternated rounds)\n`);
  console.log(table(['workers', 'in-process jobs/s (baseline)', 'remote jobs/s', 'remote vs baseline'], rows.map(([w, b, r]) => [w, b.toFixed(1), r.toFixed(1), ratio(r / b)])));
}

// ---- 3. worker loss → resumed elsewhere

async function lossTrial(p: Plane, how: 'SIGKILL' | 'SIGSTOP', n: number): Promise<{ starting: number; running: number }> {
  const j = await create(p, 'fixture-resumable', `loss-${how}-${n}`);
  await p.t.gates.reached(j.id, 'step_5');
  await until('two checkpoints', async () => (await p.t.app.store.listCheckpoints(j.uuid)).length === 2);
  const attempt = (await p.t.app.store.getAttempt((await p.t.app.store.getJobByUuid(j.uuid))!.current_attempt_id!))!;
  const victim = p.workers.find((w) => attempt.worker_id.includes(`:${w.node}:`))!;
  const t0 = performance.now();
  victim.child.kill(how);
  const starting = (await p.bus.when(j.uuid, 'STARTING', 2)) - t0;
  const running = (await p.bus.when(j.uuid, 'RUNNING', 2)) - t0;
  await p.t.client.waitStatus(j.id, ['COMPLETED', 'FAILED']);
  victim.child.kill('SIGCONT');
  await victim.kill();
  p.workers.splice(p.workers.indexOf(victim), 1);
  await addWorkers(p, 1);
  return { starting, running };
}

async function loss(): Promise<void> {
  const p = await startPlane({ pgUrl: PG, builtinWorkers: 0, plans: { resumable: { steps: 6, evalEvery: 2, gates: ['step_5'], gateAttempts: [1] } } });
  try {
    await addWorkers(p, 2);
    const by: Record<string, Array<{ starting: number; running: number }>> = { SIGKILL: [], SIGSTOP: [] };
    for (let i = 0; i < opts.trials; i++) for (const how of ['SIGKILL', 'SIGSTOP'] as const) by[how]!.push(await lossTrial(p, how, i));
    const med = (xs: number[]): number => summarize(xs).p50;
    const base = med(by.SIGSTOP!.map((x) => x.running));
    console.log(`\n## worker lost mid-training → resumed on another worker (default lease ${p.t.app.config.leaseMs} ms, grace ${p.t.app.config.workerDisconnectGraceMs} ms, ${opts.trials} trials)\n`);
    console.log(table(['how the worker is lost', '→ STARTING again, median s', '→ RUNNING (resumed), median s', 'max s', 'vs baseline'], (['SIGKILL', 'SIGSTOP'] as const).map((how) => {
      const xs = by[how]!;
      return [how === 'SIGKILL' ? 'SIGKILL (process dies)' : 'SIGSTOP (hangs; baseline: lease expiry)', (med(xs.map((x) => x.starting)) / 1000).toFixed(2), (med(xs.map((x) => x.running)) / 1000).toFixed(2), (maxOf(xs.map((x) => x.running)) / 1000).toFixed(2), ratio(med(xs.map((x) => x.running)) / base)];
    })));
    results.loss = by;
  } finally {
    await p.close();
  }
}

async function main(): Promise<void> {
  if (!PG) throw new Error('set FTNODE_TEST_PG_URL to a PostgreSQL database (the bench creates and drops its own schemas)');
  console.log(machineLine());
  if (want('latency')) await latency();
  if (want('throughput')) await throughput();
  if (want('loss')) await loss();
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ machine: machineLine(), ...results }, null, 2));
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
