/**
 * Recovery under chaos, with real PostgreSQL, real processes and real kills (skipped without
 * FTNODE_TEST_PG_URL): two `ftnode serve` replicas sharing one home and three `ftnode worker`
 * processes run 20 fixture jobs (3 of them cancelled, 3 stopped on the way) while a random worker or
 * replica is SIGKILLed and restarted every 1–2.5 s, until every job is terminal (the test fails past
 * 3 minutes). The checks (every job terminal and legal, every checkpoint present, as recorded and
 * reloadable, nothing committed after a cancel, nothing written by an attempt after it lost its
 * lease) are in helpers/chaos.ts, shared with the same run on separate homes and a bucket
 * (test/chaos-s3.test.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { randomHex } from '../src/lib/ids.js';
import { checkChaos, runChaos } from './helpers/chaos.js';
import { Cluster } from './helpers/cluster.js';
import { paceGates } from './helpers/harness.js';
import { writeServerConfig } from './helpers/server-process.js';
import { dropPgSchema } from './helpers/test-store.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;
const STEPS = 24;
const PACE_MS = 100; // each training step is held this long at its gate: ~2.4 s of training per job, ~20 s for all
/** Jobs hold at their last step until this many kills happened, so a fast machine cannot finish them all first. */
const HOLD_UNTIL_KILLS = 6;

const dirs: string[] = [];
let cluster: Cluster | null = null;
let pacer: NodeJS.Timeout | undefined;
let schema = '';
after(async () => {
  clearInterval(pacer);
  await cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const w of cluster?.workers ?? []) rmSync(w.cacheDir, { recursive: true, force: true });
  if (schema) await dropPgSchema(PG_URL!, schema);
});

test('kills of workers and replicas every couple of seconds: every job ends legal, nothing written without a lease', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set', timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'ftnode-chaos-'));
  const gateDir = mkdtempSync(join(tmpdir(), 'ftnode-chaos-gates-'));
  dirs.push(home, gateDir);
  schema = `chaos_${randomHex(12)}`;
  writeServerConfig(home, gateDir, { chaos: { steps: STEPS, evalEvery: 4, gates: Array.from({ length: STEPS }, (_, i) => `step_${i + 1}`) } });
  cluster = new Cluster({
    pgUrl: PG_URL!, schema, home, replicas: 2, workers: 3,
    // 2 s leases, presence grace 1 s, reaper every 200 ms: a lost attempt is found within seconds; 100 attempts: kills never exhaust a job.
    env: { FTNODE_LEASE_MS: '2000', FTNODE_HEARTBEAT_MS: '200', FTNODE_REAPER_INTERVAL_MS: '200', FTNODE_WORKER_DISCONNECT_GRACE_MS: '1000', FTNODE_MAX_ATTEMPTS: '100' },
  });
  await cluster.start();
  let enoughKills = false;
  pacer = paceGates(gateDir, PACE_MS, '', (f) => !enoughKills && f.endsWith(`.step_${STEPS}.reached`));
  const run = await runChaos(cluster, cluster.client(), { jobs: 20, model: 'fixture-chaos', cancel: 3, stop: 3, deadlineMs: 180_000, onKill: (n) => { enoughKills ||= n >= HOLD_UNTIL_KILLS; } });
  const artifacts = join(home, 'artifacts');
  const summary = await checkChaos(PG_URL!, schema, run, {
    info: async (key) => {
      const p = join(artifacts, key);
      if (!existsSync(p)) return null;
      return { size: statSync(p).size, sha256: createHash('sha256').update(readFileSync(p)).digest('hex') };
    },
    text: async (key) => readFileSync(join(artifacts, key), 'utf8'),
    keyOf: (uri) => relative(artifacts, fileURLToPath(uri)),
  });
  process.stdout.write(`chaos: ${summary}\n`);
});
