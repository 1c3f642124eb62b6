/** The jobs table's live stream: every status change of the org's fine-tune jobs, and nobody else's. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FtClient, followJobs } from '../src/client/index.js';
import { jobBody, startTestApp, TEST_KEY } from './helpers/harness.js';

test('GET /v0.5/fine-tune/jobs as text/event-stream sends each status change of the org', async () => {
  const t = await startTestApp({ plans: { quick: { steps: 2, evalEvery: 1 } } });
  const abort = new AbortController();
  try {
    await t.client.upload('data.jsonl', '{"x":1}\n');
    const other = await t.app.auth.createKey('other-org');
    const client = new FtClient({ endpoint: t.app.url, apiKey: TEST_KEY });
    const seen: string[] = [];
    const stream = followJobs(client, { signal: abort.signal });
    const first = stream.next(); // connects
    // Another org's job must not appear in this org's stream.
    await fetch(`${t.app.url}/v0.5/files`, { method: 'POST', headers: { authorization: `Bearer ${other.key}` }, body: (() => { const f = new FormData(); f.append('file', new Blob(['{"x":1}\n']), 'data.jsonl'); return f; })() });
    await fetch(`${t.app.url}/v0.5/fine-tune/jobs`, { method: 'POST', headers: { authorization: `Bearer ${other.key}` }, body: JSON.stringify(jobBody('fixture-quick', 'data.jsonl', { id: 'theirs' })) });
    const mine = await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-quick', 'data.jsonl', { id: 'mine' }));
    assert.equal(mine.status, 201);
    let next = await first;
    while (!next.done) {
      const j = next.value;
      if (j !== 'reconnected') {
        seen.push(`${j.id}:${j.status}`);
        if (j.id === 'mine' && j.status === 'COMPLETED') break;
      }
      next = await stream.next();
    }
    assert.ok(!seen.some((s) => s.startsWith('theirs')), seen.join(' '));
    for (const s of ['REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'COMPLETED']) assert.ok(seen.includes(`mine:${s}`), `missing ${s} in ${seen.join(' ')}`);
  } finally {
    abort.abort();
    await t.close();
  }
});
