/**
 * The route fuzzer's suite, run by test/fuzz-routes-sqlite.test.ts and test/fuzz-routes-postgres.test.ts
 * (one file per database, so each stays well inside the runner's per-file timeout on a loaded machine).
 * Property-based fuzzing of every route, on SQLite and (when FTNODE_TEST_PG_URL is set) PostgreSQL,
 * against the real server on an ephemeral port with real seeded resources (helpers/fuzz-seed.ts).
 * The routes are the OpenAPI document's plus those hidden from it (the server's route table);
 * each generated request is a route with hostile parameters, query, headers, body and framing
 * (helpers/fuzz-arbs.ts), sent byte for byte over a raw socket (helpers/fuzz-wire.ts). Invariants
 * (helpers/fuzz-check.ts): no hang, no 5xx, every 4xx in the envelope, no answer without credentials,
 * nothing stored after a 4xx; the server healthy afterwards. docs/testing.md says how to replay.
 *
 * FTNODE_FUZZ_SEED replays a run (printed at the start and in every failure), FTNODE_FUZZ_RUNS sets
 * the number of requests per database (default 3000),
 * FTNODE_FUZZ_SHRINK=1 shrinks a failure to a smaller request (slow when the failure is a 10 s hang),
 * FTNODE_FUZZ_SURVEY=1 runs on after failures and lists each kind once, FTNODE_FUZZ_LOG=1 prints the server's error log, FTNODE_FUZZ_TRACE=<text> every request to the
 * routes whose "METHOD /url" contains the text, with its answer.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { randomHex } from '../../src/lib/ids.js';
import { caseArb, type FuzzCase } from './fuzz-arbs.js';
import { answerProblems, snapshot, stored, type State } from './fuzz-check.js';
import { render, type Rendered } from './fuzz-request.js';
import { fuzzRoutes, type FuzzRoute } from './fuzz-routes.js';
import { Seeds } from './fuzz-seed.js';
import { exchange, type WireResponse } from './fuzz-wire.js';
import { startTestApp, waitFor, type TestApp } from './harness.js';
import { dropPgSchema } from './test-store.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;
const SEED = process.env.FTNODE_FUZZ_SEED ? Number(process.env.FTNODE_FUZZ_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
const RUNS = Number(process.env.FTNODE_FUZZ_RUNS ?? 3000);
const SHRINK = process.env.FTNODE_FUZZ_SHRINK === '1';
/** FTNODE_FUZZ_LOG=1: the server's error log on stderr (find a 500's error_uid there). */
const LOG = process.env.FTNODE_FUZZ_LOG === '1';
/** FTNODE_FUZZ_TRACE=<route substring>: every request to matching routes and its status on stderr. */
const TRACE = process.env.FTNODE_FUZZ_TRACE;
/** FTNODE_FUZZ_SURVEY=1: do not stop at the first failure; list every kind of failure (first case of each) at the end. */
const SURVEY = process.env.FTNODE_FUZZ_SURVEY === '1';
/** How long a 4xx may take to remove what it staged (a temp file deleted as the stream errors). */
const CLEANUP_BOUND_MS = 5_000;

interface Db {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  overrides(): Promise<{ overrides: Record<string, unknown>; drop(): Promise<void> }>;
}

const databases: Db[] = [
  { name: 'sqlite', skip: false, overrides: async () => ({ overrides: {}, drop: async () => undefined }) },
  {
    name: 'postgres',
    skip: !PG_URL ? 'FTNODE_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' : false,
    async overrides() {
      const schema = `fuzz_${randomHex(8)}`;
      return {
        overrides: { databaseUrl: PG_URL, databaseSchema: schema },
        drop: () => dropPgSchema(PG_URL!, schema),
      };
    },
  },
];

/** Printable, bounded: a 17 MB body or a 40 KB header must not drown the report. */
function clip(s: string, n = 300): string {
  const j = JSON.stringify(s);
  return j.length > n ? `${j.slice(0, n)}… (${s.length} chars)` : j;
}

function describeFailure(c: FuzzCase, r: Rendered, res: WireResponse, problems: string[]): string {
  const head = r.wire.head.toString('latin1').split('\r\n').filter(Boolean).map((l) => `    ${clip(l, 240)}`).join('\n');
  return [
    `route ${c.route.method} ${c.route.url}: ${problems.join('; ')}`,
    `  request (framing ${c.framing}${r.wire.halfClose ? ', half-closed after the body' : ''}):`, head,
    `    body: ${clip(r.wire.body.subarray(0, 400).toString('latin1'))} (${r.wire.body.length} bytes)`,
    `  answer: ${res.hung ? 'none (hang)' : `status ${res.status} after ${Math.round(res.ms)} ms`}${res.writeError ? `, write error ${res.writeError}` : ''}${res.readError ? `, read error ${res.readError}` : ''}`,
    `    headers: ${clip(JSON.stringify(res.headers), 400)}`,
    `    body: ${clip(res.body.subarray(0, 600).toString('utf8'), 600)}`,
  ].join('\n');
}

/** Registers the fuzzer's tests for one database. */
export function fuzzSuite(name: Db['name']): void {
  const db = databases.find((d) => d.name === name)!;
  describe(`route fuzzer on ${db.name}`, { skip: db.skip }, () => {
    let t: TestApp;
    let seeds: Seeds;
    let routes: FuzzRoute[];
    let drop: () => Promise<void> = async () => undefined;

    before(async () => {
      const d = await db.overrides();
      drop = d.drop;
      t = await startTestApp({
        plans: { ok: { steps: 1, evalEvery: 1 } },
        // Nothing runs in the background while fuzzing: no reaper, GC or sweep timers, leases and
        // grace periods far past the run, claims that do not wait. Every change then comes from a
        // request, so "nothing stored after a 4xx" compares states around one request.
        overrides: { builtinWorkers: 1, leaseMs: 3_600_000, stopGraceMs: 3_600_000, workerDisconnectGraceMs: 3_600_000, workerClaimWaitMs: 20, ...d.overrides },
        app: { reaperTimer: false, ...(LOG ? { logger: pino({ level: 'error' }, process.stderr) } : {}) },
      });
      seeds = new Seeds(t);
      await seeds.create();
      const doc = (await (await fetch(`${t.app.url}/openapi.json`)).json()) as Parameters<typeof fuzzRoutes>[0];
      routes = fuzzRoutes(doc, t.app.server.routeTable);
    });
    after(async () => {
      await t?.close();
      await drop();
    });

    test(`every route, mutated (seed ${SEED}, ${RUNS} requests): answered, no 5xx, errors in the envelope, nothing stored after a 4xx`, async (ctx) => {
      ctx.diagnostic(`replay with FTNODE_FUZZ_SEED=${SEED} node --test dist/test/fuzz-routes-${db.name}.test.js`);
      const port = Number(new URL(t.app.url).port);
      const perRoute = new Map<string, { n: number; ok: number; refused: number }>(routes.map((r) => [`${r.method} ${r.url}`, { n: 0, ok: 0, refused: 0 }]));
      let baseline: State = await snapshot(seeds);
      let previous = 'none';
      const started = performance.now();
      const survey = new Map<string, { first: string; routes: Set<string>; n: number }>(); // FTNODE_FUZZ_SURVEY: kind of failure → its cases
      const spent = { requests: 0, checks: 0, reseeding: 0 }; // ms, for the report: where a run's time goes

      const property = fc.asyncProperty(caseArb(routes), async (c) => {
        const count = perRoute.get(`${c.route.method} ${c.route.url}`)!;
        count.n++;
        const r = render(c, seeds, port);
        let at = performance.now();
        const res = await exchange(port, r.wire);
        spent.requests += performance.now() - at;
        at = performance.now();
        if (res.status >= 200 && res.status < 400) count.ok++;
        else count.refused++;
        if (TRACE && `${c.route.method} ${c.route.url}`.includes(TRACE)) {
          process.stderr.write(`${res.status} ${clip(r.wire.head.toString('latin1'), 600)} ${clip(r.wire.body.subarray(0, 200).toString('latin1'))} → ${clip(res.body.subarray(0, 300).toString('utf8'))}\n`);
        }
        const problems = answerProblems(c, r, res);
        let now = await snapshot(seeds);
        const refused = res.hung || res.status === 0 || (res.status >= 400 && res.status < 500);
        if (refused && stored(baseline, now).length > 0) {
          // A staged temp file may still be on its way out as the request's stream errors: a bound, not a pace.
          await waitFor('cleanup after a refused request', async () => stored(baseline, (now = await snapshot(seeds))).length === 0, CLEANUP_BOUND_MS).catch(() => undefined);
          const diff = stored(baseline, now);
          if (diff.length > 0) {
            problems.push(`stored after ${res.status ? `a ${res.status}` : 'no answer'}: ${diff.slice(0, 4).join('; ')} ` +
              `(or left by the request before, still working after its answer: ${previous})`);
          }
        } else if (!refused && r.mutating) {
          const t0 = performance.now();
          await seeds.ensure(c.route.url.includes('/uploads'));
          spent.reseeding += performance.now() - t0;
          now = await snapshot(seeds);
        }
        spent.checks += performance.now() - at;
        baseline = now;
        previous = `${clip(r.wire.head.toString('latin1').split('\r\n')[0]!, 200)} framing ${c.framing} → ${res.status || 'no answer'}`;
        if (problems.length === 0) return;
        if (!SURVEY) throw new Error(describeFailure(c, r, res, problems));
        for (const p of problems) {
          const kind = p.replace(/: .*/, '').replace(/\(.*/, '').slice(0, 100); // "a 431 outside the error envelope", "status 500", …
          const k = survey.get(kind) ?? { first: describeFailure(c, r, res, [p]), routes: new Set<string>(), n: 0 };
          k.n++;
          k.routes.add(`${c.route.method} ${c.route.url}`);
          survey.set(kind, k);
        }
      });
      const details = await fc.check(property, { seed: SEED, numRuns: RUNS, endOnFailure: !SHRINK });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      ctx.diagnostic(`${details.numRuns} requests in ${seconds} s on ${db.name} (seed ${details.seed}): ${(spent.requests / 1000).toFixed(1)} s sending, ` +
        `${(spent.checks / 1000).toFixed(1)} s checking state (${(spent.reseeding / 1000).toFixed(1)} s of it re-seeding); per route:`);
      for (const [k, n] of perRoute) ctx.diagnostic(`${String(n.n).padStart(5)} (2xx/3xx ${String(n.ok).padStart(3)}, refused ${String(n.refused).padStart(3)})  ${k}`);
      if (survey.size > 0) {
        const kinds = [...survey.entries()].map(([kind, k]) => `${kind}: ${k.n} requests on ${k.routes.size} routes (${[...k.routes].slice(0, 6).join(', ')}${k.routes.size > 6 ? ', …' : ''})\n  first: ${k.first}`);
        assert.fail(`route fuzzer found ${survey.size} kinds of failure on ${db.name} (seed ${SEED}):\n\n${kinds.join('\n\n')}`);
      }
      if (details.failed) {
        const message = (details.errorInstance as Error | undefined)?.message ?? String(details.errorInstance);
        assert.fail(`route fuzzer failed on ${db.name} after ${details.numRuns} requests\n${message}\n` +
          `replay: FTNODE_FUZZ_SEED=${details.seed} node --test dist/test/fuzz-routes-${db.name}.test.js (fast-check path ${details.counterexamplePath})`);
      }
      for (const r of routes) assert.ok(perRoute.get(`${r.method} ${r.url}`)!.n > 0 || RUNS < 500, `${r.method} ${r.url} was never fuzzed`);
    });

    test('the server is healthy afterwards: /healthz, authenticated lists, no staged bytes left', async () => {
      const health = await t.client.get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { ok: true });
      const jobs = await t.client.get('/v0.5/fine-tune/jobs');
      assert.equal(jobs.status, 200, JSON.stringify(jobs.body));
      assert.ok(Array.isArray(jobs.body));
      assert.equal((await t.client.get('/v0.5/files/metadata')).status, 200);
      assert.equal((await t.client.get('/v0.6/fine_tuning/jobs')).status, 200);
      let tmp: string[] = [];
      try {
        tmp = readdirSync(join(t.app.config.artifactsDir, '.tmp'));
      } catch {
        // no temp folder at all
      }
      assert.deepEqual(tmp, [], 'nothing left in artifacts/.tmp');
    });
  });
}
