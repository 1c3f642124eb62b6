/**
 * The same lifecycle scenarios as test/lifecycle.test.ts, run by a remote worker: the app has no
 * in-process worker; an `ftnode worker` child process claims over HTTP, downloads the dataset,
 * uploads checkpoints and learns stop/cancel from its session (and heartbeats). Pausing the workers
 * is a graceful stop of the process; resuming starts a new one.
 */
import { after, before } from 'node:test';
import { startTestApp, type TestApp } from './helpers/harness.js';
import { LIFECYCLE_PLANS, lifecycleScenarios } from './helpers/lifecycle-scenarios.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

let t: TestApp;
let token: string;
let worker: WorkerProcess | null = null;

before(async () => {
  t = await startTestApp({ plans: LIFECYCLE_PLANS, overrides: { builtinWorkers: 0 } });
  await t.client.upload('data.jsonl', '{"x":1}\n');
  token = (await t.app.workerTokens.create('lifecycle-remote')).token;
  worker = await startWorkerProcess(t.app.url, token);
});
after(async () => {
  await worker?.stop();
  await t.close();
});

lifecycleScenarios(() => ({
  client: t.client,
  gates: t.gates,
  pauseWorkers: async () => {
    await worker?.stop();
    worker = null;
  },
  resumeWorkers: async () => {
    worker = await startWorkerProcess(t.app.url, token);
  },
}));
