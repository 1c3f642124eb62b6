/**
 * The worker protocol table (src/api/worker-protocol.ts) is what the server serves and what the
 * client sends: the real server's /v1/worker routes are exactly the table's rows (nothing registered
 * beside it, no row left unserved); every fenced row's client body, read back by its server-side
 * check, gives the client's arguments again; and a fenced call built from the table, sent over real
 * HTTP with a fence that holds no lease, gets the row's refusal value under the row's reply key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FENCED, FENCED_NAMES, ROUTES, WORKER_API_PREFIX, workerPath } from '../src/api/worker-protocol.js';
import type { RouteEntry } from '../src/http/auth.js';
import { startTestApp, type TestApp } from './helpers/harness.js';

let t: TestApp;
let token: string;
before(async () => {
  t = await startTestApp();
  token = (await t.app.workerTokens.create('protocol-test')).token;
});
after(() => t.close());

describe('the worker protocol table', () => {
  test("the server's /v1/worker routes are the table's rows, no more and no fewer", () => {
    const served = (t.app.server.routeTable as RouteEntry[])
      .filter((r) => r.url.startsWith(`${WORKER_API_PREFIX}/`) && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    const table = [
      ...FENCED_NAMES.map((n) => `${FENCED[n].method} ${WORKER_API_PREFIX}${FENCED[n].path}`),
      ...Object.values(ROUTES).map((r) => `${r.method} ${WORKER_API_PREFIX}${r.path}`),
    ].sort();
    assert.deepEqual(served, table);
  });

  test("each fenced row's server-side check gives back the arguments its client side encoded", () => {
    const fence = { attempt_id: 'att_x', lease_token: 7 };
    const samples: { [K in keyof typeof FENCED]: Parameters<(typeof FENCED)[K]['body']> } = {
      heartbeat: [],
      progress: [{ step: 3, total_steps: 10, epoch: 1, phase: 'train', eta_seconds: 4 }, { lr: 0.1 }],
      metrics: [3, { loss: 0.5 }],
      event: ['warn', 'note', 'hello', { a: 1 }],
      advance: ['start_training', { level: 'info', type: 'started', message: 'go', data: null } as { level: 'info'; type: string; message: string }, { step: 0, total_steps: null, epoch: null, phase: null, eta_seconds: null }],
      finish: [],
      fail: ['trainer_crashed', 'exit 1'],
    };
    for (const name of FENCED_NAMES) {
      const op = FENCED[name] as { body: (...a: unknown[]) => Record<string, unknown>; args: (b: Record<string, unknown>, f: () => unknown) => unknown[] };
      const args = samples[name] as unknown[];
      const wire = JSON.parse(JSON.stringify({ fence, ...op.body(...args) })) as Record<string, unknown>;
      const [readFence, ...readArgs] = op.args(wire, () => wire.fence);
      assert.deepEqual(readFence, fence, name);
      assert.deepEqual(readArgs, args, name);
    }
  });

  test('a fenced call without a lease gets its refusal value under its reply key, over HTTP', async () => {
    const fence = { attempt_id: 'att_nonexistent', lease_token: 1 };
    const bodies: Record<string, Record<string, unknown>> = {
      progress: { progress: { step: 1 } }, metrics: { step: 1, values: {} }, event: { type: 'x', message: 'y' },
      advance: { action: 'finalize', event: { type: 'x', message: 'y' } }, fail: { code: 'c', message: 'm' },
    };
    for (const name of FENCED_NAMES) {
      const op = FENCED[name];
      const res = await fetch(t.app.url + workerPath(name), {
        method: op.method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fence, ...(bodies[name] ?? {}) }),
      });
      assert.equal(res.status, 200, name);
      assert.deepEqual(await res.json(), { [op.reply]: op.refused }, name);
    }
  });

  test('a malformed fence is a 400 invalid_parameter on every fenced row', async () => {
    for (const name of FENCED_NAMES) {
      const res = await fetch(t.app.url + workerPath(name), {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fence: { attempt_id: 1 }, action: 'finalize', step: 1, values: {} }),
      });
      assert.equal(res.status, 400, name);
      const body = (await res.json()) as { errors: Array<{ code: string }> };
      assert.equal(body.errors[0]!.code, 'invalid_parameter', name);
    }
  });
});
