/** The README quick start works: examples/quickstart.sh (the docs' curl calls) against a real server. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestApp, TEST_KEY } from './helpers/harness.js';

const SCRIPT = fileURLToPath(new URL('../../examples/quickstart.sh', import.meta.url));

test('examples/quickstart.sh runs end to end and the job completes', async () => {
  const t = await startTestApp();
  try {
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn('bash', [SCRIPT], { env: { ...process.env, ATAI_API_ENDPOINT: t.app.url, ATAI_API_KEY: TEST_KEY } });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      p.on('exit', (code) => resolve({ code, text }));
    });
    assert.equal(out.code, 0, out.text);
    assert.match(out.text, /quickstart finished: job ftj-my-finetune-run-[0-9a-f]{8} ended COMPLETED/);
    assert.match(out.text, /"predictions":\[\{"prediction":/);
    assert.match(out.text, /"status":"(STOPPING|STOPPED)"/);
    assert.match(out.text, /"status":"CANCELLED"/);
  } finally {
    await t.close();
  }
});
