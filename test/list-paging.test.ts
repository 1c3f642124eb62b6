/**
 * Paging job lists by keyset cursor: v0.5 `after` (an extension beside limit/offset) and v0.6
 * `after` + `has_more`, both answered by the store's cursor (no scan of the whole list). Every page
 * joined must equal the whole list, in order; a cursor that is not in the list is a 400 in the
 * documented envelope.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jobBody, startTestApp, type TestApp } from './helpers/harness.js';

let t: TestApp;
const ids: string[] = [];
before(async () => {
  t = await startTestApp({ plans: { ok: { steps: 1, evalEvery: 1 } }, overrides: { builtinWorkers: 0 } }); // jobs stay REGISTERED: only the list matters
  await t.client.upload('data.jsonl', '{"x":1}\n');
  for (let i = 0; i < 7; i++) {
    const r = await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-ok', 'data.jsonl', { id: `page-${i}` }));
    assert.equal(r.status, 201);
    ids.push(r.body.id);
  }
});
after(() => t.close());

test('v0.5: pages by after= join up to the whole list; after combines with offset; an unknown cursor is a 400', async () => {
  const whole = (await t.client.get('/v0.5/fine-tune/jobs')).body.map((j: any) => j.id);
  assert.deepEqual([...whole].sort(), [...ids].sort());
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 10; n++) {
    const page = (await t.client.get(`/v0.5/fine-tune/jobs?limit=3${cursor ? `&after=${cursor}` : ''}`)).body.map((j: any) => j.id);
    seen.push(...page);
    if (page.length < 3) break;
    cursor = page.at(-1);
  }
  assert.deepEqual(seen, whole);
  assert.deepEqual((await t.client.get(`/v0.5/fine-tune/jobs?after=${whole[1]}&offset=2&limit=2`)).body.map((j: any) => j.id), whole.slice(4, 6));
  const bad = await t.client.get('/v0.5/fine-tune/jobs?after=no-such-job');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errors[0].code, 'invalid_parameter');
  assert.match(bad.body.errors[0].message, /after: no job 'no-such-job'/);
});

test('v0.6: after + has_more walk the same list', async () => {
  const whole = (await t.client.get('/v0.5/fine-tune/jobs')).body.map((j: any) => j.id);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 10; n++) {
    const page = (await t.client.get(`/v0.6/fine_tuning/jobs?limit=3${cursor ? `&after=${cursor}` : ''}`)).body;
    seen.push(...page.data.map((j: any) => j.id));
    if (!page.has_more) break;
    cursor = page.data.at(-1).id;
  }
  assert.deepEqual(seen, whole);
  const last = (await t.client.get(`/v0.6/fine_tuning/jobs?limit=1&after=${whole.at(-2)}`)).body;
  assert.deepEqual(last.data.map((j: any) => j.id), [whole.at(-1)]);
  assert.equal(last.has_more, false, 'the last page says so');
  assert.equal((await t.client.get('/v0.6/fine_tuning/jobs?after=nope')).status, 400);
});
