/** The real trainer child process (node dist/src/trainers/main.js) on generated CSVs. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TrainerMessage, TrainerSpec } from '../protocol.js';
import { makeSpec, writeSynthetic } from './test-helpers.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

function runTrainer(spec: TrainerSpec): Promise<{ code: number | null; messages: TrainerMessage[]; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => {
      const messages = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TrainerMessage);
      done({ code, messages, stderr });
    });
    // stdin stays open: the protocol treats a closed stdin as "the worker is gone".
    child.stdin.write(`${JSON.stringify({ type: 'start', spec })}\n`);
  });
}

test('the child process trains a head job and ends with done, exit 0', async () => {
  const files = await writeSynthetic(2, 200, 1);
  const { code, messages, stderr } = await runTrainer(makeSpec(files, 'head', { n_epochs: 3 }));
  assert.equal(code, 0, stderr);
  assert.equal(messages[0]?.type, 'hello');
  const last = messages[messages.length - 1]!;
  assert.ok(last.type === 'done' && last.reason === 'completed', JSON.stringify(last));
  const ckpts = messages.flatMap((m) => (m.type === 'checkpoint' ? [m] : []));
  assert.ok(ckpts.length >= 1);
  for (const c of ckpts) assert.ok(existsSync(join(files.dir, c.path)), c.path);
  await rm(files.dir, { recursive: true, force: true });
});

test('the child process exits 3 with invalid_config for a window below 16', async () => {
  const files = await writeSynthetic(2, 200, 1);
  const spec = makeSpec(files, 'knn');
  (spec.config.method as { knn: { reader: { window_size: number } } }).knn.reader.window_size = 8;
  const { code, messages } = await runTrainer(spec);
  assert.equal(code, 3);
  const err = messages.find((m) => m.type === 'error');
  assert.ok(err?.type === 'error' && err.code === 'invalid_config' && /window_size/.test(err.message));
  await rm(files.dir, { recursive: true, force: true });
});
