/**
 * The lifecycle (docs/spec.md#lifecycle) at the HTTP level with the in-process worker pool; the scenarios
 * themselves (helpers/lifecycle-scenarios.ts) also run against remote workers (lifecycle-remote.test.ts).
 */
import { after, before } from 'node:test';
import { startTestApp, type TestApp } from './helpers/harness.js';
import { LIFECYCLE_PLANS, lifecycleScenarios } from './helpers/lifecycle-scenarios.js';

let t: TestApp;

before(async () => {
  t = await startTestApp({ plans: LIFECYCLE_PLANS, overrides: { builtinWorkers: 1 } });
  await t.client.upload('data.jsonl', '{"x":1}\n');
});
after(() => t.close());

lifecycleScenarios(() => ({
  client: t.client,
  gates: t.gates,
  pauseWorkers: () => t.app.pool!.stop(),
  resumeWorkers: async () => t.app.pool!.start(),
}));
