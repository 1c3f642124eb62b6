/**
 * The chaos run and its checks, shared by test/chaos.test.ts (one shared home) and
 * test/chaos-s3.test.ts (separate homes + a bucket): fixture jobs run on a Cluster while a random
 * worker or replica is SIGKILLed and restarted every 1–2.5 s (the kill interval is the workload, not
 * a synchronisation: every wait is on a condition), a few jobs cancelled and a few stopped once they
 * trained a little. Then, from the database and the artifacts, wherever they are stored:
 * - every job is terminal and legal (untouched jobs COMPLETED; stopped ones STOPPED or COMPLETED;
 *   cancelled ones CANCELLED);
 * - every committed checkpoint exists with its recorded size and sha256 and reloads (parses as the
 *   fixture's checkpoint of its recorded step), and so does the one each inference config names;
 * - no checkpoint of a cancelled job was committed after the cancel;
 * - no write of an attempt after it lost its lease (no zombie commit): every checkpoint was committed
 *   while its attempt held the lease (before lease_expires_at, and before ended_at of a lost attempt),
 *   and every COMPLETED/STOPPED job was finished by its current attempt before its lease expired.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import type { Cluster, FailoverClient } from './cluster.js';
import { jobBody } from './harness.js';

const TERMINAL = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];

/** Where the deployment keeps its artifacts: local files or a bucket. */
export interface ArtifactReader {
  /** Size and sha256 of a stored object, null when missing. */
  info(key: string): Promise<{ size: number; sha256: string } | null>;
  text(key: string): Promise<string>;
  /** The key of a URI the records hold (`file://…` or `s3://…`). */
  keyOf(uri: string): string;
}

export interface ChaosPlan {
  jobs: number;
  model: string;
  /** The first `cancel` jobs are cancelled, the next `stop` stopped. */
  cancel: number;
  stop: number;
  deadlineMs: number;
  /**
   * After this many kills the run only waits for every job to end (default: kill until then). On a
   * loaded machine a restart takes long (a replica's start measured 12–40 s at load 30 on 2 cores),
   * so a bounded number of kills keeps the run's length set by the jobs, not by the restarts.
   */
  maxKills?: number;
  /** Called after each kill with the number so far (a test can hold its jobs until enough happened). */
  onKill?: (kills: number) => void;
}

export interface ChaosRun {
  ids: string[];
  cancelled: Set<string>;
  stopped: Set<string>;
  acted: Set<string>;
  kills: string[];
  ms: number;
}

export async function runChaos(cluster: Cluster, client: FailoverClient, plan: ChaosPlan): Promise<ChaosRun> {
  assert.equal((await client.upload('data.jsonl', '{"x":1}\n')).status, 200);
  const ids = Array.from({ length: plan.jobs }, (_, i) => `chaos-${String(i).padStart(2, '0')}`);
  for (const id of ids) assert.equal((await client.call('POST', '/v0.5/fine-tune/jobs', jobBody(plan.model, 'data.jsonl', { id }))).status, 201);
  const cancelled = new Set(ids.slice(0, plan.cancel));
  const stopped = new Set(ids.slice(plan.cancel, plan.cancel + plan.stop));
  const acted = new Set<string>();
  const started = Date.now();
  const kills: string[] = [];
  const workers = cluster.workers.length;
  const victims = workers + cluster.replicas.length;
  const statuses = async (): Promise<Record<string, string>> => Object.fromEntries(await Promise.all(ids.map(async (id) => [id, (await client.job(id)).status as string])));
  for (;;) {
    const st = await statuses();
    if (process.env.FTNODE_TEST_CHAOS_TRACE) { // progress on stderr, for runs on a slow machine
      const counts: Record<string, number> = {};
      for (const s of Object.values(st)) counts[s] = (counts[s] ?? 0) + 1;
      process.stderr.write(`chaos ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(counts)} kills ${kills.join(' ')}\n`);
    }
    if (ids.every((id) => TERMINAL.includes(st[id]!))) break;
    assert.ok(Date.now() - started < plan.deadlineMs, `not all terminal after ${plan.deadlineMs} ms: ${JSON.stringify(st)}; kills: ${kills.join(' ')}`);
    for (const id of ids) {
      // Cancel / stop once the job has trained a little (a checkpoint exists), whoever runs it now.
      if (acted.has(id) || !(cancelled.has(id) || stopped.has(id)) || st[id] !== 'RUNNING') continue;
      if ((await client.get(`/v0.5/fine-tune/jobs/${id}/checkpoints`)).body.data.length === 0) continue;
      acted.add(id);
      await client.call('PUT', `/v0.5/fine-tune/jobs/${id}/${cancelled.has(id) ? 'cancel' : 'stop'}`);
    }
    if (kills.length >= (plan.maxKills ?? Infinity)) {
      await new Promise((r) => setTimeout(r, 250)); // the chaos is over: wait for the jobs to end
      continue;
    }
    await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 1_500));
    const victim = Math.floor(Math.random() * victims);
    const t0 = Date.now();
    if (victim < workers) {
      await cluster.killWorker(victim);
      await cluster.startWorker(victim);
    } else {
      await cluster.killReplica(victim - workers);
      await cluster.startReplica(victim - workers);
    }
    kills.push(`${victim < workers ? `w${victim}` : `r${victim - workers}`}(${((Date.now() - t0) / 1000).toFixed(1)}s)`); // with how long its restart took
    plan.onKill?.(kills.length);
  }
  assert.ok(kills.length >= 5, `only ${kills.length} kills happened: the chaos did not get going`);
  return { ids, cancelled, stopped, acted, kills, ms: Date.now() - started };
}

/** Every check of the header; returns a one-line summary. */
export async function checkChaos(pgUrl: string, schema: string, run: ChaosRun, artifacts: ArtifactReader): Promise<string> {
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  try {
    await db.query(`SET search_path TO "${schema}"`);
    const jobs = (await db.query('SELECT * FROM jobs ORDER BY id')).rows;
    const ckpts = (await db.query('SELECT * FROM checkpoints')).rows;
    const attempts = new Map((await db.query('SELECT * FROM attempts')).rows.map((a) => [a.id, a]));
    const events = (await db.query("SELECT * FROM events WHERE type IN ('cancelled', 'job_completed', 'job_stopped')")).rows;
    const stops = (await db.query("SELECT * FROM events WHERE type = 'stop_requested'")).rows;
    const resumed = Number((await db.query("SELECT COUNT(*) AS n FROM events WHERE message LIKE 'resumed from checkpoint at step %'")).rows[0].n);
    assert.equal(jobs.length, run.ids.length);
    for (const j of jobs) {
      const why = `${j.id}: ${j.status} ${j.error ?? ''}`;
      if (run.cancelled.has(j.id) && run.acted.has(j.id)) assert.equal(j.status, 'CANCELLED', why);
      else if (run.stopped.has(j.id) && run.acted.has(j.id)) assert.ok(['STOPPED', 'COMPLETED'].includes(j.status), why);
      else assert.equal(j.status, 'COMPLETED', why);
      // A stop that lands while the job is re-queued after a lost worker is REGISTERED → STOPPED at once, which
      // the transition table finalizes with nothing (docs/lifecycle.md), even when checkpoints exist.
      const stoppedQueued = j.status === 'STOPPED' && stops.some((e) => e.job_uuid === j.uuid && /before it started/.test(e.message));
      if (stoppedQueued) assert.equal(j.inference_config_path, null);
      else if (j.status === 'COMPLETED' || j.status === 'STOPPED') {
        assert.ok(j.inference_config_path, `${j.id} has no inference config`);
        const cfg = parseYaml(await artifacts.text(artifacts.keyOf(j.inference_config_path))) as { checkpoint: { id: string; uri: string; sha256: string } };
        assert.ok(ckpts.some((c) => c.id === cfg.checkpoint.id && c.job_uuid === j.uuid), `${j.id}: its inference config names a checkpoint that is not committed`);
        assert.equal((await artifacts.info(artifacts.keyOf(cfg.checkpoint.uri)))?.sha256, cfg.checkpoint.sha256, `${j.id}: checkpoint object differs from its sha256`);
        // Finished by the attempt holding the lease at that moment (a fenced write at t needs lease_expires_at > t).
        const fin = events.find((e) => e.job_uuid === j.uuid && (e.type === 'job_completed' || e.type === 'job_stopped'))!;
        const a = attempts.get(j.current_attempt_id);
        if (a) {
          assert.equal(Number(a.lease_token), Number(j.lease_token), `${j.id}: finished by a superseded token`);
          assert.ok(Number(fin.created_at) < Number(a.lease_expires_at), `${j.id}: finished after its lease expired`);
          assert.notEqual(a.state, 'lost', `${j.id}: finished by a lost attempt`);
        } else assert.equal(j.status, 'STOPPED', `${j.id}: only the control plane finishes a job without an attempt`);
      }
      if (j.status === 'CANCELLED') {
        const at = Number(events.find((e) => e.job_uuid === j.uuid && e.type === 'cancelled')!.created_at);
        for (const c of ckpts.filter((c) => c.job_uuid === j.uuid)) assert.ok(Number(c.created_at) <= at, `${j.id}: checkpoint ${c.step} committed after the cancel`);
      }
    }
    for (const c of ckpts) {
      assert.deepEqual(await artifacts.info(c.blob_key), { size: Number(c.num_bytes), sha256: c.sha256 }, `checkpoint ${c.id}: object missing or not as recorded`);
      const saved = JSON.parse(await artifacts.text(c.blob_key)) as { step: number; weights: number[] };
      assert.ok(saved.step === Number(c.step) && saved.weights.length === 64, `checkpoint ${c.id} does not reload as step ${c.step}`);
      const a = attempts.get(c.attempt_id)!;
      assert.ok(Number(c.created_at) < Number(a.lease_expires_at), `checkpoint ${c.id} committed after its attempt's lease expired`);
      if (a.state === 'lost') assert.ok(Number(c.created_at) <= Number(a.ended_at), `checkpoint ${c.id} committed after its attempt was lost`);
    }
    const lost = [...attempts.values()].filter((a) => a.state === 'lost').length;
    return `${run.kills.length} kills (${run.kills.join(' ')}), ${attempts.size} attempts (${lost} lost, ${resumed} resumed from a checkpoint), ${ckpts.length} checkpoints verified, ${Math.round(run.ms / 1000)} s`;
  } finally {
    await db.end();
  }
}
