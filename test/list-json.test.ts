/**
 * The v0.5 list page is assembled from stored JSON text (JobView) instead of parsed and re-serialised
 * records: its bytes must equal JSON.stringify of the records the GET route returns, for every shape
 * of record (unicode config, error, progress, nulls).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobBody, startTestApp } from './helpers/harness.js';

test('list bytes equal JSON.stringify of the individual records', async () => {
  const t = await startTestApp({ plans: { bad: { steps: 2, failAtStep: 1, exitCode: 2, errorMessage: 'bad "quoted" line ✓' }, ok: { steps: 2, evalEvery: 1 } } });
  try {
    await t.client.upload('data.jsonl', '{"x":1}\n');
    const ids: string[] = [];
    for (const [model, name] of [['fixture-bad', 'naïve ✓ "quoted"'], ['fixture-ok', 'plain'], ['fixture-ok', 'third']] as const) {
      const r = await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody(model, 'data.jsonl', { name }));
      assert.equal(r.status, 201);
      ids.push(r.body.id);
      await t.client.waitStatus(r.body.id, ['FAILED', 'COMPLETED']);
    }
    await t.app.pool!.stop();
    const queued = await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-ok', 'data.jsonl', { name: 'queued' }));
    ids.push(queued.body.id);
    const res = await fetch(`${t.app.url}/v0.5/fine-tune/jobs`, { headers: { authorization: `Bearer ${t.client.key}` } });
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const text = await res.text();
    const records = [];
    for (const id of [...ids].reverse()) records.push((await t.client.get(`/v0.5/fine-tune/jobs/${id}`)).body);
    assert.equal(text, JSON.stringify(records));
    assert.ok(records.some((r) => r.error?.code === 'invalid_dataset'), 'a record with an error');

    // The page's records are now cached by row_version: a write must show on the next page at once.
    const cancelled = await t.client.call('PUT', `/v0.5/fine-tune/jobs/${queued.body.id}/cancel`);
    assert.equal(cancelled.body.status, 'CANCELLED');
    const again = await (await fetch(`${t.app.url}/v0.5/fine-tune/jobs`, { headers: { authorization: `Bearer ${t.client.key}` } })).text();
    const after = [];
    for (const id of [...ids].reverse()) after.push((await t.client.get(`/v0.5/fine-tune/jobs/${id}`)).body);
    assert.equal(after[0].status, 'CANCELLED');
    assert.equal(again, JSON.stringify(after), 'the changed record is re-rendered, the others reused unchanged');
    const deleted = await t.client.call('DELETE', `/v0.5/fine-tune/jobs/${queued.body.id}`);
    assert.equal(deleted.status, 200);
    const afterDelete = await (await fetch(`${t.app.url}/v0.5/fine-tune/jobs`, { headers: { authorization: `Bearer ${t.client.key}` } })).text();
    assert.equal(afterDelete, JSON.stringify(after.slice(1)));
  } finally {
    await t.close();
  }
});
