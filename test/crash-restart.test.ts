/**
 * kill -9 of the whole server while a job trains, then a restart on the same data directory: the
 * orphaned trainer exits on its own (its stdin closed), the new boot recovers the dead boot's attempt
 * at once (no lease wait) and the job resumes from its last committed checkpoint — or, with no
 * attempts left, FAILS with a reason. It never stays non-terminal without an owner.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { Client, Gates, jobBody, processAlive, waitFor } from './helpers/harness.js';
import { killHard, startServerProcess, writeServerConfig, type ServerProcess } from './helpers/server-process.js';

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await killHard(s);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function runUntilKilled(settings: Record<string, unknown>): Promise<{ home: string; id: string; pid: number }> {
  const home = tempDir('ftnode-crash-');
  const gates = new Gates(tempDir('ftnode-crash-gates-'));
  writeServerConfig(home, gates.dir, { resumable: { steps: 6, evalEvery: 2, gates: ['step_5'], gateAttempts: [1] } }, settings);
  const server = await startServerProcess(home);
  servers.push(server);
  const client = new Client(server.url);
  assert.equal((await client.upload('data.jsonl', '{"x":1}\n')).status, 200);
  const created = await client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-resumable', 'data.jsonl', { id: 'crash-job' }));
  assert.equal(created.status, 201);
  const pid = await gates.reached('crash-job', 'step_5');
  await waitFor('two committed checkpoints', async () => (await client.get('/v0.5/fine-tune/jobs/crash-job/checkpoints')).body.data.length === 2);
  await killHard(server);
  // The trainer's stdin closed with the server: it must not go on training as an orphan.
  await waitFor('orphaned trainer exits', () => !processAlive(pid), 10_000);
  return { home, id: 'crash-job', pid };
}

test('kill -9 mid-training, restart: the job resumes from its last committed checkpoint and completes', async () => {
  const { home, id } = await runUntilKilled({});
  const server = await startServerProcess(home);
  servers.push(server);
  const client = new Client(server.url);
  const done = await client.waitStatus(id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED');
  const steps = (await client.get(`/v0.5/fine-tune/jobs/${id}/checkpoints`)).body.data.map((c: { step: number }) => c.step);
  assert.deepEqual(steps, [2, 4, 6]);
  const events = (await client.get(`/v0.5/fine-tune/jobs/${id}/events?order=asc&limit=-1`)).body.data as Array<{ type: string; message: string }>;
  assert.ok(events.some((e) => e.type === 'attempt_lost'), 'the lost attempt is recorded');
  assert.ok(events.some((e) => /resumed from checkpoint at step 4/.test(e.message)));
});

test('kill -9 with no attempts left: the job FAILS worker_lost instead of hanging', async () => {
  const { home, id } = await runUntilKilled({ maxAttempts: 1 });
  const server = await startServerProcess(home);
  servers.push(server);
  const client = new Client(server.url);
  const done = await client.waitStatus(id, ['FAILED', 'COMPLETED']);
  assert.equal(done.status, 'FAILED');
  assert.equal(done.error.code, 'worker_lost');
});
