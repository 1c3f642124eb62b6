/**
 * Read-path benchmark of the v0.5 jobs API over real HTTP:
 *   GET /v0.5/fine-tune/jobs/{id}             (random ids)
 *   GET /v0.5/fine-tune/jobs?limit=100        (offset 0)
 *   GET /v0.5/fine-tune/jobs?limit=100&offset=R (random offsets)
 *   GET /v0.5/fine-tune/jobs?limit=100&after=ID (the same depths by keyset cursor, an extension)
 * against a real app (startApp: SQLite file in a temp home, bearer auth, response schemas, no
 * built-in worker) holding `--jobs` stored jobs (default 100,000) of one org. Baseline in the same
 * run and process: a bare Fastify server (no auth, no schema, no database) answering the same paths
 * with the same JSON records from memory. Both are driven by the same load generator, a separate
 * process (bench/lib/loadgen.ts: keep-alive sockets, closed loop, per-request latency); each
 * scenario's requests are split into `--rounds` short rounds alternating baseline/app, so both see
 * the same machine load; rounds are pooled for req/s and percentiles, and the target is judged on
 * the median of the per-round ratios.
 * Seeding: the first `--store-jobs` jobs go through SqliteStore.createJob (one IMMEDIATE
 * transaction each, as the service writes them), the rest are raw prepared INSERTs of the same rows
 * (jobToParams) in batched transactions on a second connection; both rates are printed.
 * Target: app ≥ 0.6× the bare route's requests/s and app p99 < 10 ms.
 * After the HTTP runs, an in-process breakdown times each step of a GET and of a list page on the
 * same database (SQL with the per-call prepare the first version did and with a cached statement,
 * row → record JSON parsing, record → DTO, serialisation), plus the variants proposed in
 * docs/benchmarks-core.md, so the proposals carry numbers from the same run.
 *   node dist/bench/api-read.js [--jobs 100000] [--get-requests 10000] [--list-requests 1000]
 *     [--listrand-requests 300] [--connections 4] [--rounds 6] [--warmup 400]
 *     [--profile get|list0|listrand|listafter] [--no-breakdown] [--json FILE] [--keep] [--pg postgres://…]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import fastJson from 'fast-json-stringify';
import { jobDto, jobViewJson } from '../src/api/dto.js';
import { JobRecord } from '../src/api/schemas.js';
import { appConfig, startApp, type App } from '../src/app/app.js';
import type { Job, JobProgress, JobView, JobViewKey } from '../src/domain/types.js';
import { JobJsonCache } from '../src/http/job-json-cache.js';
import { randomHex, slug, typeId, uuid } from '../src/lib/ids.js';
import { jobFromRow, jobToParams } from '../src/store/rows.js';
import { openSqlite } from '../src/store/sqlite/db.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { chooseHyperparameters } from '../src/trainers/text-sft/hyperparameters.js';
import { parseArgs } from './lib/args.js';
import { dropSchema, seedPostgres } from './lib/seed-pg.js';
import { pool, runLoad, type LoadSummary } from './lib/load.js';
import { machineLine } from './lib/machine.js';
import { cpuOfProcessesNamed, machineBusyUs } from './lib/proc.js';
import { int, maxOf, median, minOf, ms, prng, ratio, table } from './lib/stats.js';

const KEY = 'sk_bench_0123456789abcdefghijklmnopqrstuvwxyzAB';
const MODEL = 'Newton::c2_4_7b_251215a172f6d7';
const BASE = '/v0.5/fine-tune/jobs';

const opts = parseArgs({
  jobs: 100_000,
  storeJobs: 2_000,
  getRequests: 10_000,
  listRequests: 1_000,
  listrandRequests: 300,
  connections: 4,
  rounds: 6,
  warmup: 400,
  breakdown: true,
  seed: 1,
  profile: '',
  json: '',
  keep: false,
  pg: '', // a PostgreSQL URL: run the same benchmark with the app on PostgreSQL (own schema, dropped after)
});

// ---- realistic records

const STATUS_MIX: Array<[Job['status'], number]> = [['COMPLETED', 0.7], ['FAILED', 0.1], ['STOPPED', 0.1], ['CANCELLED', 0.08], ['REGISTERED', 0.02]];

function pickStatus(r: number): Job['status'] {
  let acc = 0;
  for (const [s, p] of STATUS_MIX) if (r < (acc += p)) return s;
  return 'COMPLETED';
}

function makeJob(i: number, org_uuid: string, files: { train: string; eval: string }, t0: number, rnd: () => number): Job {
  const status = pickStatus(rnd());
  const name = `sensor classifier ${['pump', 'lab', 'kitchen', 'hall'][i % 4]} run ${i}`;
  const id = `ftj-${slug(name, 64 - 13)}-${randomHex(8)}`;
  const created_at = t0 + i * 60_000 + Math.floor(rnd() * 1000); // one a minute, ascending
  const hp = chooseHyperparameters(600, 4);
  const total = hp.total_steps;
  const step = status === 'COMPLETED' ? total : status === 'REGISTERED' ? 0 : Math.floor(rnd() * total);
  const progress: JobProgress | null = status === 'REGISTERED' ? null
    : { step, total_steps: total, epoch: Math.max(1, Math.ceil(step / hp.steps_per_epoch)), phase: status === 'COMPLETED' ? 'writing_inference_config' : status === 'STOPPED' ? 'stopping' : 'training', eta_seconds: null };
  const config = {
    model: MODEL,
    datasets: [
      { name: 'sensor-train', split: 'train', file_ids: ['sensor-sft-train.jsonl'] },
      { name: 'sensor-eval', split: 'eval', file_ids: ['sensor-sft-eval.jsonl'] },
    ],
    ...(i % 3 === 0 ? { seed: i % 7 } : {}),
  };
  return {
    uuid: uuid(), org_uuid, id, name, api_version: 'v0.5', model: MODEL, status, config,
    datasets: [
      { name: 'sensor-train', split: 'train', files: [{ file_id: 'sensor-sft-train.jsonl', file_uid: files.train }] },
      { name: 'sensor-eval', split: 'eval', files: [{ file_id: 'sensor-sft-eval.jsonl', file_uid: files.eval }] },
    ],
    request_hash: createHash('sha256').update(id).digest('hex'),
    idempotency_key: i % 5 === 0 ? `idem-${randomHex(16)}` : null,
    created_at,
    updated_at: created_at + (status === 'REGISTERED' ? 0 : 20_000 + Math.floor(rnd() * 40_000)),
    inference_config_path: status === 'COMPLETED' || (status === 'STOPPED' && step > 0) ? `file:///var/lib/ftnode/artifacts/orgs/${org_uuid}/inference-configs/${id}.yaml` : null,
    error: status === 'FAILED' ? { code: 'trainer_failed', message: 'trainer exited with code 1; stderr: Error: out of memory while featurising example 512\n    at featurize (features.js:91:11)' } : null,
    progress,
    attempts: status === 'REGISTERED' ? 0 : 1,
    current_attempt_id: status === 'REGISTERED' ? null : uuid(),
    stop_requested_at: status === 'STOPPED' ? created_at + 10_000 : null,
    hyperparameters: status === 'REGISTERED' ? null : { ...hp, train_examples: 600, eval_examples: 150, eval_source: 'eval_split', classes: 4, hash_dim: 262144, seed: 0 },
  };
}

interface Seeded {
  ids: string[];
  storeRate: number; // jobs/s through SqliteStore.createJob
  rawRate: number; // jobs/s through batched raw INSERTs
  seconds: number;
}

async function seed(app: App): Promise<Seeded> {
  const db = openSqlite(app.config.databaseFile);
  const org_uuid = String((db.prepare('SELECT uuid FROM orgs WHERE name = ?').get(app.config.bootstrapOrg) as { uuid: string }).uuid);
  const t0 = Date.now() - opts.jobs * 60_000;
  const rnd = prng(opts.seed);
  const files = { train: typeId('fil'), eval: typeId('fil') };
  const insFile = db.prepare(`INSERT INTO files (file_uid, org_uuid, file_id, file_type, num_bytes, sha256, blob_key, status, is_current,
    file_index, attributes, created_at, deleted_at) VALUES (?, ?, ?, 'text/plain', ?, ?, ?, 'ready', 1, ?, '{}', ?, NULL)`);
  insFile.run(files.train, org_uuid, 'sensor-sft-train.jsonl', 384460, randomBytes(32).toString('hex'), `files/${files.train}`, 0, t0);
  insFile.run(files.eval, org_uuid, 'sensor-sft-eval.jsonl', 96058, randomBytes(32).toString('hex'), `files/${files.eval}`, 1, t0);

  const ids: string[] = [];
  const started = performance.now();
  // 1. through the store, as the service writes them (REGISTERED event included)
  const nStore = Math.min(opts.storeJobs, opts.jobs);
  const s0 = performance.now();
  for (let i = 0; i < nStore; i++) {
    const job = makeJob(i, org_uuid, files, t0, rnd);
    await app.store.createJob(job, { level: 'info', type: 'job_registered', message: `Job ${job.id} registered for model ${MODEL}` });
    ids.push(job.id);
  }
  const storeRate = nStore / ((performance.now() - s0) / 1000);

  // 2. raw prepared INSERTs of the same rows, 10,000 per transaction
  const cols = Object.keys(jobToParams(makeJob(0, org_uuid, files, t0, prng(0))));
  const insJob = db.prepare(`INSERT INTO jobs (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
  const insLink = db.prepare('INSERT INTO job_files (job_uuid, file_uid) VALUES (?, ?)');
  const insEvent = db.prepare('INSERT INTO events (job_uuid, seq, id, level, type, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const batch = db.transaction((jobs: Job[]) => {
    for (const j of jobs) {
      insJob.run(jobToParams(j));
      insLink.run(j.uuid, files.train);
      insLink.run(j.uuid, files.eval);
      insEvent.run(j.uuid, 1, typeId('evt'), 'info', 'job_registered', `Job ${j.id} registered for model ${MODEL}`, null, j.created_at);
      if (j.status !== 'REGISTERED') insEvent.run(j.uuid, 2, typeId('evt'), 'info', `job_${j.status.toLowerCase()}`, `Job ${j.status.toLowerCase()}`, null, j.updated_at);
    }
  });
  const r0 = performance.now();
  for (let i = nStore; i < opts.jobs; i += 10_000) {
    const jobs: Job[] = [];
    for (let k = i; k < Math.min(opts.jobs, i + 10_000); k++) jobs.push(makeJob(k, org_uuid, files, t0, rnd));
    batch.immediate(jobs);
    for (const j of jobs) ids.push(j.id);
  }
  const rawRate = (opts.jobs - nStore) / ((performance.now() - r0) / 1000);
  db.pragma('wal_checkpoint(TRUNCATE)'); // a long-running server's database is checkpointed, not one big WAL
  db.close();
  return { ids, storeRate, rawRate, seconds: (performance.now() - started) / 1000 };
}

async function seedPg(app: App, schema: string): Promise<Seeded> {
  const t0 = Date.now() - opts.jobs * 60_000;
  const rnd = prng(opts.seed);
  const started = performance.now();
  const r = await seedPostgres({
    url: opts.pg, schema, store: app.store, orgName: app.config.bootstrapOrg, total: opts.jobs, viaStore: Math.min(opts.storeJobs, opts.jobs),
    makeJob: (i, org, files) => makeJob(i, org, files, t0, rnd),
    event: (j) => ({ level: 'info', type: 'job_registered', message: `Job ${j.id} registered for model ${MODEL}` }),
  });
  return { ...r, seconds: (performance.now() - started) / 1000 };
}

// ---- the baseline: a bare Fastify route with the same JSON from memory

async function bareServer(pool: Array<Record<string, unknown>>): Promise<{ origin: string; close(): Promise<void> }> {
  const bare = Fastify({ logger: false });
  const index = new Map(pool.map((d, i) => [String(d.id), i]));
  bare.get<{ Params: { job_id: string } }>(`${BASE}/:job_id`, async (req) => {
    // The pool is smaller than the id space: map any id onto a record of the same shape.
    const i = index.get(req.params.job_id) ?? (createHash('md5').update(req.params.job_id).digest().readUInt32LE(0) % pool.length);
    return pool[i];
  });
  bare.get<{ Querystring: { limit?: string; offset?: string; after?: string } }>(BASE, async (req) => {
    const limit = Number(req.query.limit ?? 100);
    const at = req.query.after ? createHash('md5').update(req.query.after).digest().readUInt32LE(0) : Number(req.query.offset ?? 0);
    const offset = at % (pool.length - limit + 1);
    return pool.slice(offset, offset + limit);
  });
  const address = await bare.listen({ host: '127.0.0.1', port: 0 });
  return { origin: address, close: () => bare.close() };
}

// ---- profiling (optional): the app server's CPU profile during one scenario

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

function topSelf(profile: { nodes: ProfileNode[] }, n = 30): string {
  const total = profile.nodes.reduce((a, x) => a + (x.hitCount ?? 0), 0);
  const by = new Map<string, number>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    by.set(key, (by.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
}

// ---- in-process breakdown of one GET and one list page (and the proposed variants)

interface Micro { group: string; what: string; n: number; rounds: number; fn: (i: number) => unknown }

/**
 * µs per call of each entry: the best of its `rounds` rounds of `n` calls, after one warm-up round,
 * with the rounds of all entries interleaved (entry 1, 2, …, 1, 2, …). The best round, not the
 * median, and short rounds: on a shared machine other tenants only ever add time, so the minimum is
 * what the code costs, and interleaving gives every variant the same chances of a quiet moment.
 */
function timeAll(entries: Micro[]): Array<[string, string, number]> {
  const best = entries.map(() => Infinity);
  for (const e of entries) for (let i = 0; i < e.n; i++) e.fn(i);
  const maxRounds = maxOf(entries.map((e) => e.rounds));
  for (let r = 0; r < maxRounds; r++) {
    entries.forEach((e, k) => {
      if (r >= e.rounds) return;
      const t0 = performance.now();
      for (let i = 0; i < e.n; i++) e.fn(i);
      best[k] = Math.min(best[k]!, ((performance.now() - t0) * 1000) / e.n);
    });
  }
  return entries.map((e, k) => [e.group, e.what, best[k]!]);
}

const DTO_COLS = 'name, id, uuid, org_uuid, status, config, created_at, updated_at, inference_config_path, error, progress';
const isoFast = (ms: number): string => `${new Date(ms).toISOString().slice(0, 23)}000Z`;

/** The proposed read path: only the DTO's columns, three JSON.parse per row, slice-based timestamps. */
function dtoFromProjected(r: Record<string, unknown>): Record<string, unknown> {
  return {
    name: r.name, id: r.id, uuid: r.uuid, org_uuid: r.org_uuid, status: r.status,
    config: JSON.parse(r.config as string),
    created_at: isoFast(r.created_at as number), updated_at: isoFast(r.updated_at as number),
    inference_config_path: r.inference_config_path ?? null,
    error: r.error === null ? null : JSON.parse(r.error as string),
    progress: r.progress === null ? null : JSON.parse(r.progress as string),
  };
}

/** Further still: the response text assembled from the projected row, config spliced in unparsed. */
function jsonFromProjected(r: Record<string, unknown>): string {
  const q = JSON.stringify;
  return `{"name":${q(r.name)},"id":${q(r.id)},"uuid":"${r.uuid}","org_uuid":"${r.org_uuid}","status":"${r.status}","config":${r.config},` +
    `"created_at":"${isoFast(r.created_at as number)}","updated_at":"${isoFast(r.updated_at as number)}","inference_config_path":${q(r.inference_config_path ?? null)},` +
    `"error":${r.error ?? 'null'},"progress":${r.progress ?? 'null'}}`;
}

/**
 * The same wire schema written for the serialiser rather than as TypeBox unions: `status` as a
 * string enum and nullable fields as type arrays. fast-json-stringify serialises an anyOf by
 * validating the value against each branch at run time (up to 10 for the status literals).
 */
function leanJobRecordSchema(): object {
  type S = { anyOf?: Array<{ type?: string; const?: string }>; type?: unknown; properties?: Record<string, S> };
  const s = structuredClone(JobRecord) as unknown as S;
  const p = s.properties!;
  p.status = { type: 'string', enum: p.status!.anyOf!.map((x) => x.const) } as S;
  const nullable = (x: S): S => {
    const branch = x.anyOf!.find((b) => b.type !== 'null')!;
    return { ...branch, type: [branch.type, 'null'] } as S;
  };
  p.inference_config_path = nullable(p.inference_config_path!);
  p.error = nullable(p.error!);
  p.progress = nullable(p.progress!);
  for (const k of ['total_steps', 'epoch', 'phase', 'eta_seconds']) p.progress.properties![k] = nullable(p.progress.properties![k]!);
  p.config = { type: 'object', additionalProperties: true } as S;
  return s;
}

async function breakdown(file: string, org: string, ids: string[], rnd: () => number): Promise<Array<[string, string, number]>> {
  const db = openSqlite(file);
  const fjsOne = fastJson(JobRecord as object);
  const fjsList = fastJson({ type: 'array', items: JobRecord } as object);
  const fjsLean = fastJson({ type: 'array', items: leanJobRecordSchema() } as object);
  const pick = Array.from({ length: 4096 }, () => ids[Math.floor(rnd() * ids.length)]!);
  const GET = 'SELECT * FROM jobs WHERE org_uuid = ? AND id = ?';
  const LIST = 'SELECT * FROM jobs WHERE org_uuid = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?';
  const AUTH = `SELECT k.*, o.name AS org_name, o.created_at AS org_created_at FROM api_keys k
                JOIN orgs o ON o.uuid = k.org_uuid WHERE k.hash = ? AND k.revoked_at IS NULL`;
  const keyHash = createHash('sha256').update(KEY).digest('hex');
  const getStmt = db.prepare(GET), listStmt = db.prepare(LIST), authStmt = db.prepare(AUTH);
  const projStmt = db.prepare(`SELECT ${DTO_COLS} FROM jobs WHERE org_uuid = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`);
  const row = getStmt.get(org, pick[0]) as Record<string, unknown>;
  const job = jobFromRow(row);
  const dto = jobDto(job);
  const rows = listStmt.all(org, 100, 0) as Array<Record<string, unknown>>;
  const jobs = rows.map(jobFromRow);
  const dtos = jobs.map(jobDto);
  const proj = projStmt.all(org, 100, 0) as Array<Record<string, unknown>>;
  // The proposed variants must answer byte-for-byte what the service answers today.
  if (JSON.stringify(proj.map(dtoFromProjected)) !== JSON.stringify(dtos)) throw new Error('breakdown: projected DTOs differ from jobDto');
  if (`[${proj.map(jsonFromProjected).join(',')}]` !== JSON.stringify(dtos)) throw new Error('breakdown: assembled JSON differs from JSON.stringify(jobDto)');
  if (fjsList(dtos) !== JSON.stringify(dtos)) throw new Error('breakdown: fast-json-stringify output differs');
  if (fjsLean(dtos) !== JSON.stringify(dtos)) throw new Error('breakdown: lean-schema output differs');

  const entries: Micro[] = [];
  const add = (group: string, what: string, n: number, fn: (i: number) => unknown, rounds = 15): void => void entries.push({ group, what, n, fn, rounds });
  add('auth (every request)', 'sha256 of the key', 1_000, () => createHash('sha256').update(KEY).digest('hex'));
  add('auth (every request)', 'db.prepare(join) + get — v1', 200, () => db.prepare(AUTH).get(keyHash));
  add('auth (every request)', 'cached statement get', 1_000, () => authStmt.get(keyHash));
  add('GET one job', 'db.prepare + get — v1', 200, (i) => db.prepare(GET).get(org, pick[i & 4095]));
  add('GET one job', 'cached statement get', 1_000, (i) => getStmt.get(org, pick[i & 4095]));
  add('GET one job', 'jobFromRow (5 JSON.parse)', 1_000, () => jobFromRow(row));
  add('GET one job', 'jobDto (2 × isoMicros)', 1_000, () => jobDto(job));
  add('GET one job', 'serialise: fast-json-stringify(JobRecord) — v1', 1_000, () => fjsOne(dto));
  add('GET one job', 'serialise: JSON.stringify', 1_000, () => JSON.stringify(dto));
  add('list page (100, offset 0)', 'db.prepare + all(SELECT *) — v1', 5, () => db.prepare(LIST).all(org, 100, 0));
  add('list page (100, offset 0)', 'cached statement all(SELECT *)', 5, () => listStmt.all(org, 100, 0));
  add('list page (100, offset 0)', `cached statement all(SELECT ${DTO_COLS.split(', ').length} DTO columns)`, 5, () => projStmt.all(org, 100, 0));
  add('list page (100, offset 0)', '100 × jobFromRow — v1', 5, () => rows.map(jobFromRow));
  add('list page (100, offset 0)', '100 × jobDto — v1', 5, () => jobs.map(jobDto));
  add('list page (100, offset 0)', 'serialise 100: fast-json-stringify — v1', 5, () => fjsList(dtos));
  add('list page (100, offset 0)', 'serialise 100: fast-json-stringify, status enum + nullable type arrays', 5, () => fjsLean(dtos));
  add('list page (100, offset 0)', 'serialise 100: JSON.stringify', 5, () => JSON.stringify(dtos));
  add('list page (100, offset 0)', 'proposed: projected rows → DTO (3 JSON.parse, slice timestamps)', 5, () => proj.map(dtoFromProjected));
  add('list page (100, offset 0)', 'proposed: projected rows → JSON text (config spliced unparsed)', 5, () => `[${proj.map(jsonFromProjected).join(',')}]`);
  // What the route does now (src/http/job-json-cache.ts): keys from the covering index, then the page
  // from cached rendered records; on a miss, the jobs are read by uuid and rendered.
  const store = new SqliteStore(db);
  const q = { org_uuid: org, api_versions: ['v0.5' as const], limit: 100, offset: 0 };
  let keys: JobViewKey[] = [];
  void store.listJobViewKeys(q).then((k) => (keys = k)); // the store's work is synchronous: resolved by the next await
  await Promise.resolve();
  const warm = new JobJsonCache();
  await warm.page(keys, (u) => store.getJobViews(org, u));
  if ((await warm.page(keys, (u) => store.getJobViews(org, u))) !== JSON.stringify(dtos.filter((d) => keys.some((k) => k.uuid === d.uuid)))) {
    throw new Error('breakdown: the cached page differs from JSON.stringify(jobDto)');
  }
  const uuids = keys.map((k) => k.uuid);
  let views: JobView[] = [];
  void store.getJobViews(org, uuids).then((v) => (views = v));
  await Promise.resolve();
  add('list page (100, offset 0)', 'shipped: keys — SELECT uuid, row_version (covering index)', 5, () => store.listJobViewKeys(q));
  add('list page (100, offset 0)', 'shipped: page from the render cache (100 hits)', 5, () => warm.page(keys, async () => []));
  add('list page (100, offset 0)', 'shipped, cache miss: getJobViews(100 uuids)', 5, () => store.getJobViews(org, uuids));
  add('list page (100, offset 0)', 'shipped, cache miss: 100 × jobViewJson', 5, () => views.map(jobViewJson));
  for (const off of [0, 25_000, 50_000, 75_000]) {
    if (off + 100 > ids.length) continue;
    add('list SQL by offset', `cached all(SELECT *) offset ${int(off)}`, off > 0 ? 2 : 5, () => listStmt.all(org, 100, off), off > 0 ? 5 : 15);
  }
  const last = Math.max(0, ids.length - 100);
  add('list SQL by offset', `cached all(SELECT *) offset ${int(last)} (last page)`, 2, () => listStmt.all(org, 100, last), 5);
  add('list SQL by offset', `covering-index walk only: SELECT rowid … offset ${int(last)}`, 2, () => db.prepare('SELECT rowid FROM jobs WHERE org_uuid = ? ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET ?').all(org, last), 5);
  const out = timeAll(entries);
  db.close();
  return out;
}

// ---- main

interface Scenario { name: string; label: string; paths: string[]; requests: number; warmup: number }

async function main(): Promise<void> {
  console.log(`api-read: ${machineLine()}`);
  console.log(`options: ${JSON.stringify(opts)}`);
  const home = mkdtempSync(join(tmpdir(), 'ftnode-bench-api-'));
  const pgSchema = opts.pg ? `bench_${randomBytes(4).toString('hex')}` : null;
  const config = appConfig({ home, port: 0, bootstrapKey: KEY, builtinWorkers: 0, requestsPerKeyPerMinute: 1_000_000_000 /* limiter hook runs, never trips: its cost is measured */, logLevel: 'silent', ...(opts.pg ? { databaseUrl: opts.pg, databaseSchema: pgSchema } : {}) }, {});
  const app = await startApp(config, { logger: false });
  let bare: Awaited<ReturnType<typeof bareServer>> | null = null;
  try {
    const seeded = opts.pg ? await seedPg(app, pgSchema!) : await seed(app);
    console.log(`seeded ${int(opts.jobs)} jobs in ${seeded.seconds.toFixed(1)} s: ${opts.pg ? "PostgresStore" : "SqliteStore"}.createJob ${int(seeded.storeRate)} jobs/s (${int(Math.min(opts.storeJobs, opts.jobs))} jobs), batched raw INSERT ${int(seeded.rawRate)} jobs/s (rest)`);

    // Baseline records: real DTOs of stored jobs (1,000, mixed statuses), served from memory.
    const org = (await app.auth.authenticate(`Bearer ${KEY}`))!.org.uuid;
    const records = (await app.store.listJobs({ org_uuid: org, limit: 1000, offset: 0 })).map(jobDto);
    bare = await bareServer(records);

    const rnd = prng(opts.seed + 1);
    const scenarios: Scenario[] = [
      { name: 'get', label: `GET ${BASE}/{id} (random ids)`, requests: opts.getRequests, warmup: opts.warmup, paths: Array.from({ length: opts.getRequests + opts.warmup }, () => `${BASE}/${seeded.ids[Math.floor(rnd() * seeded.ids.length)]}`) },
      { name: 'list0', label: `GET ${BASE}?limit=100 (offset 0)`, requests: opts.listRequests, warmup: Math.ceil(opts.warmup / 4), paths: [`${BASE}?limit=100`] },
      { name: 'listrand', label: `GET ${BASE}?limit=100&offset=R (random R)`, requests: opts.listrandRequests, warmup: Math.ceil(opts.warmup / 8), paths: Array.from({ length: opts.listrandRequests + opts.warmup }, () => `${BASE}?limit=100&offset=${Math.floor(rnd() * (opts.jobs - 100))}`) },
      // the same depths by keyset cursor (extension): the page after a random job (ids are oldest first)
      { name: 'listafter', label: `GET ${BASE}?limit=100&after=<job at random depth>`, requests: opts.listrandRequests, warmup: Math.ceil(opts.warmup / 8), paths: Array.from({ length: opts.listrandRequests + opts.warmup }, () => `${BASE}?limit=100&after=${seeded.ids[100 + Math.floor(rnd() * (seeded.ids.length - 100))]}`) },
    ];
    const headers = { authorization: `Bearer ${KEY}` };

    // Sanity: both servers answer the same shape.
    const check = await fetch(app.url + scenarios[0]!.paths[0]!, { headers });
    if (check.status !== 200) throw new Error(`app GET returned ${check.status}`);
    const list = (await (await fetch(app.url + scenarios[2]!.paths[0]!, { headers })).json()) as unknown[];
    if (list.length !== 100) throw new Error(`app list returned ${list.length} records`);
    const paged = (await (await fetch(app.url + scenarios[3]!.paths[0]!, { headers })).json()) as unknown[];
    if (paged.length !== 100) throw new Error(`app list after a cursor returned ${paged.length} records`);

    // Short rounds, bare and app alternating, so that both sides see the same machine load; the
    // first round of each side warms up (JIT, sockets) before its recorded requests.
    const results: Record<string, { bare: LoadSummary[]; app: LoadSummary[] }> = {};
    // CPU time of this (server) process per request served: what a request costs, whatever the
    // machine load; bare/app of it is the req/s ratio one saturated core would give.
    const cpuUs: Record<string, { bare: number[]; app: number[] }> = {};
    // The PostgreSQL server's backends and the whole machine (load generator included), per request:
    // on these 2 vCPUs the app's round trip also costs the database's CPU, which process.cpuUsage misses.
    const pgUs: Record<string, { bare: number[]; app: number[] }> = {};
    const machineUs: Record<string, { bare: number[]; app: number[] }> = {};
    for (const sc of scenarios) {
      results[sc.name] = { bare: [], app: [] };
      cpuUs[sc.name] = { bare: [], app: [] };
      pgUs[sc.name] = { bare: [], app: [] };
      machineUs[sc.name] = { bare: [], app: [] };
      const perRound = Math.ceil(sc.requests / opts.rounds);
      for (let round = 0; round < opts.rounds; round++) {
        for (const which of ['bare', 'app'] as const) {
          const origin = which === 'bare' ? bare.origin : app.url;
          let session: Session | null = null;
          if (which === 'app' && opts.profile === sc.name && round === opts.rounds - 1) {
            session = new Session();
            session.connect();
            await post(session, 'Profiler.enable');
            await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
            await post(session, 'Profiler.start');
          }
          const offset = (round * perRound) % sc.paths.length; // each round its own ids/offsets
          const paths = sc.paths.length > 1 ? [...sc.paths.slice(offset), ...sc.paths.slice(0, offset)] : sc.paths;
          const warmup = round === 0 ? sc.warmup : 2 * opts.connections;
          const cpu0 = process.cpuUsage();
          const pg0 = opts.pg ? cpuOfProcessesNamed('postgres') : 0;
          const machine0 = machineBusyUs();
          const r = await runLoad({ origin, paths, headers, connections: opts.connections, requests: perRound, warmup });
          const cpu = process.cpuUsage(cpu0);
          cpuUs[sc.name]![which].push((cpu.user + cpu.system) / (perRound + warmup));
          if (opts.pg) pgUs[sc.name]![which].push((cpuOfProcessesNamed('postgres') - pg0) / (perRound + warmup));
          machineUs[sc.name]![which].push((machineBusyUs() - machine0) / (perRound + warmup));
          if (session) {
            const { profile } = await post<{ profile: { nodes: ProfileNode[] } }>(session, 'Profiler.stop');
            session.disconnect();
            const file = join(process.cwd(), `api-read-${sc.name}.cpuprofile`);
            writeFileSync(file, JSON.stringify(profile));
            console.log(`\nCPU profile of the app process during '${sc.name}' (self time; ${file}):\n${topSelf(profile)}\n`);
          }
          if (r.errors > 0) throw new Error(`${which} ${sc.name}: ${r.errors} errors (${JSON.stringify(r.statuses)})`);
          results[sc.name]![which].push(r);
          console.log(`  round ${round + 1} ${which.padEnd(4)} ${sc.name.padEnd(8)} ${int(r.rps).padStart(7)} req/s  p50 ${ms(r.latency.p50)} ms  p99 ${ms(r.latency.p99)} ms  max ${ms(r.latency.max)} ms  ${int(r.bytesPerResponse)} B/resp  ${r.sockets} sockets  ${int(cpuUs[sc.name]![which].at(-1)!)} µs CPU/req`);
        }
      }
    }

    // All rounds pooled: req/s over the summed time, percentiles over every request; the ratio is
    // also given per round (bare and app of the same round), whose median is the steadiest figure.
    const rows: Array<Array<string | number>> = [];
    const summary: Record<string, unknown> = {};
    for (const sc of scenarios) {
      const r = results[sc.name]!;
      const a = pool(r.app), b = pool(r.bare);
      const perRound = r.app.map((x, i) => x.rps / r.bare[i]!.rps);
      const rel = a.rps / b.rps;
      const relMedian = median(perRound);
      const met = relMedian >= 0.6 && a.latency.p99 < 10;
      const cpuBare = minOf(cpuUs[sc.name]!.bare), cpuApp = minOf(cpuUs[sc.name]!.app); // least-disturbed round
      const pgApp = opts.pg ? median(pgUs[sc.name]!.app) : null;
      const machineBare = median(machineUs[sc.name]!.bare), machineApp = median(machineUs[sc.name]!.app);
      rows.push([sc.label, int(b.rps), `${ms(b.latency.p50)} / ${ms(b.latency.p99)}`, int(a.rps), `${ms(a.latency.p50)} / ${ms(a.latency.p99)}`, ratio(rel), `${ratio(relMedian)} (${perRound.map((x) => x.toFixed(2)).join(', ')})`, `${int(cpuBare)} / ${int(cpuApp)} → ${ratio(cpuBare / cpuApp)}`,
        pgApp === null ? '-' : int(pgApp), `${int(machineBare)} / ${int(machineApp)} → ${ratio(machineBare / machineApp)}`, met ? 'met' : 'MISSED']);
      summary[sc.name] = {
        requests: a.requests, bare_rps: Math.round(b.rps), bare_p50_ms: +b.latency.p50.toFixed(3), bare_p99_ms: +b.latency.p99.toFixed(3),
        app_rps: Math.round(a.rps), app_p50_ms: +a.latency.p50.toFixed(3), app_p99_ms: +a.latency.p99.toFixed(3),
        ratio_pooled: +rel.toFixed(3), ratio_round_median: +relMedian.toFixed(3), ratio_rounds: perRound.map((x) => +x.toFixed(3)),
        server_cpu_us_per_req_bare: Math.round(cpuBare), server_cpu_us_per_req_app: Math.round(cpuApp), cpu_ratio: +(cpuBare / cpuApp).toFixed(3),
        postgres_cpu_us_per_req_app: pgApp === null ? null : Math.round(pgApp),
        machine_cpu_us_per_req_bare: Math.round(machineBare), machine_cpu_us_per_req_app: Math.round(machineApp), target_met: met,
      };
    }
    console.log(`\n${int(opts.jobs)} stored jobs, ${opts.connections} keep-alive connections, load generator in a separate process, ${opts.rounds} alternating rounds pooled`);
    console.log(table(['request', 'bare req/s', 'bare p50 / p99 ms', 'app req/s', 'app p50 / p99 ms', 'app/bare pooled', 'app/bare median of rounds (rounds)', 'server CPU µs/req bare / app → bare/app', 'postgres CPU µs/req (app, median)', 'machine CPU µs/req bare / app (median)', 'target (≥0.6×, p99<10 ms)'], rows));
    const out = { bench: 'api-read', options: opts, seed: { store_jobs_per_s: Math.round(seeded.storeRate), raw_jobs_per_s: Math.round(seeded.rawRate), seconds: +seeded.seconds.toFixed(2) }, results: summary };
    if (opts.breakdown && !opts.pg) { // the breakdown reads the SQLite file directly
      const parts = await breakdown(app.config.databaseFile, org, seeded.ids, prng(opts.seed + 2));
      console.log(`\nIn-process breakdown (same database, µs per call, best of 15 interleaved rounds, 5 for deep offsets; "v1" = what the first version of the service did; "shipped" = what it does now):`);
      console.log(table(['step', 'variant', 'µs'], parts.map(([g, w, us]) => [g, w, us >= 100 ? int(us) : us.toFixed(1)])));
      (out as Record<string, unknown>).breakdown_us = parts.map(([g, w, us]) => ({ step: g, variant: w, us: +us.toFixed(2) }));
    }
    console.log(`RESULT ${JSON.stringify(out)}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  } finally {
    await bare?.close();
    await app.close();
    if (pgSchema) await dropSchema(opts.pg, pgSchema);
    if (!opts.keep) rmSync(home, { recursive: true, force: true });
    else console.log(`kept ${home}`);
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e);
  process.exit(1);
});
