/**
 * The chaos run of test/chaos.test.ts on the recommended multi-host topology (skipped without
 * FTNODE_TEST_PG_URL): PostgreSQL + an S3-protocol server (s3rver) + two `ftnode serve` replicas with
 * separate homes (no shared folder) + two remote `ftnode worker` processes (2 jobs at once each). 20
 * short fixture jobs (3 cancelled, 3 stopped on the way) run while a random worker or replica is
 * SIGKILLed and restarted every 1–2.5 s (10 kills, then the jobs run to their end); a resumed job downloads its checkpoint from the bucket (presigned GET) on
 * whichever worker claims it. Then the checks of helpers/chaos.ts, read from the bucket: every job
 * terminal and legal, every committed checkpoint in the bucket with its recorded size and sha256 and
 * reloadable, nothing committed after a cancel, no zombie commit; and neither home holds an artifact.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkChaos, runChaos } from './helpers/chaos.js';
import { paceGates } from './helpers/harness.js';
import { S3Cluster } from './helpers/s3-cluster.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;
const STEPS = 12;
const PACE_MS = 100; // each training step is held this long at its gate: ~1.2 s of training per job, ~6 s for all on 4 slots
/**
 * Jobs hold at their last step until this many kills happened: on a quiet machine the 20 jobs ran to
 * their end in 36 s after only 3 kills (a kill and its restart take 3–8 s), so the run's length must
 * not depend on how fast the machine trains.
 */
const HOLD_UNTIL_KILLS = 6;
let enoughKills = false;

const topo = PG_URL
  ? new S3Cluster({
    pgUrl: PG_URL, name: 'chaoss3', workerConcurrency: 2, plans: { chaos: { steps: STEPS, evalEvery: 3, gates: Array.from({ length: STEPS }, (_, i) => `step_${i + 1}`) } },
    // 2 s leases, presence grace 1 s, reaper every 200 ms: a lost attempt is found within seconds; 100 attempts: kills never exhaust a job.
    env: { FTNODE_LEASE_MS: '2000', FTNODE_HEARTBEAT_MS: '200', FTNODE_REAPER_INTERVAL_MS: '200', FTNODE_WORKER_DISCONNECT_GRACE_MS: '1000', FTNODE_MAX_ATTEMPTS: '100' },
  })
  : null;
let pacer: NodeJS.Timeout | undefined;
before(async () => {
  if (!topo) return;
  await topo.start();
  pacer = paceGates(topo.gateDir, PACE_MS, '', (f) => !enoughKills && f.endsWith(`.step_${STEPS}.reached`));
});
after(async () => {
  clearInterval(pacer);
  await topo?.stop();
});

test('S3 topology: kills of workers and replicas while 20 jobs run; every job legal, every checkpoint in the bucket and verified, no zombie commit', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set', timeout: 580_000 }, async () => {
  const run = await runChaos(topo!.cluster, topo!.cluster.client(), { jobs: 20, model: 'fixture-chaos', cancel: 3, stop: 3, deadlineMs: 480_000, maxKills: 10, onKill: (n) => { enoughKills ||= n >= HOLD_UNTIL_KILLS; } });
  const bucket = topo!.bucket();
  const summary = await checkChaos(PG_URL!, topo!.schema, run, {
    info: (key) => topo!.objectInfo(key),
    text: async (key) => {
      const body = await bucket.openRead(key);
      assert.ok(body, `${key} is not in the bucket`);
      return Buffer.concat(await body.toArray()).toString('utf8');
    },
    keyOf: (uri) => topo!.keyOf(uri),
  });
  assert.deepEqual(topo!.artifactsInHomes(), [], 'every artifact is in the bucket');
  process.stdout.write(`chaos-s3: ${summary}\n`);
});
