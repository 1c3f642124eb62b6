/**
 * The `predict` extension of the trainer protocol (version 1 of the extension, docs/trainer-protocol.md
 * "Predict"): runs an external trainer's command with one `predict` line instead of `start` and reads
 * its one `predictions` answer. Used for POST …/predict on catalog entries that declare `predict: true`;
 * an entry that does not declare it is never sent this line (an older trainer would take it for a
 * bad start). The process gets its own scratch folder, its stdin stays open until it answers (a closed
 * stdin means "exit at once"), and it is killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROTOCOL_VERSION } from './protocol.js';

export const PREDICT_VERSION = 1;

export interface ExternalPredictRequest {
  command: string[];
  env?: Record<string, string>;
  /** The job's model id, when the caller knows it. */
  model?: string;
  checkpointPath: string;
  examples: unknown[];
  /** Default 120 s: a first model load on CPU plus generation for a few hundred examples. */
  timeoutMs?: number;
}

export async function predictExternal(r: ExternalPredictRequest): Promise<unknown[]> {
  const work = await mkdtemp(join(tmpdir(), 'ftnode-predict-'));
  try {
    return await runOnce(r, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function runOnce(r: ExternalPredictRequest, work: string): Promise<unknown[]> {
  const child = spawn(r.command[0]!, r.command.slice(1), { cwd: work, env: { ...process.env, ...r.env, FTNODE_TRAINER_PROTOCOL: String(PROTOCOL_VERSION) }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  const spec = { protocol: PROTOCOL_VERSION, predict: PREDICT_VERSION, ...(r.model ? { model: r.model } : {}), work_dir: work, checkpoint: { path: r.checkpointPath }, examples: r.examples };
  child.stdin.write(`${JSON.stringify({ type: 'predict', spec })}\n`);
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4096)));
  let predictions: unknown[] | null = null;
  let error: string | null = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // plain text: a log line
    }
    if (m.type === 'predictions' && Array.isArray(m.predictions)) predictions = m.predictions;
    else if (m.type === 'error' && typeof m.message === 'string') error = m.message;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), r.timeoutMs ?? 120_000);
    child.once('error', (e) => (clearTimeout(timer), reject(e)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      if (code === 0 && predictions) {
        if (predictions.length !== r.examples.length) return reject(new Error(`the trainer answered ${predictions.length} predictions for ${r.examples.length} examples`));
        return resolve(predictions);
      }
      const why = error ?? (stderr.trim().split('\n').at(-1) || `exit ${code ?? signal}`);
      reject(new Error(signal === 'SIGKILL' ? `the trainer did not answer within ${r.timeoutMs ?? 120_000} ms` : why));
    });
  });
}
