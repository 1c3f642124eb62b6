/** summarizeJob: why a job ended, its best checkpoint and duration, for every terminal status. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestCheckpoint, formatDuration, summarizeJob, summaryText } from './summary.js';
import type { Checkpoint, Job, JobEvent } from './types.js';

const job = (status: Job['status'], extra: Partial<Job> = {}): Job => ({
  name: 'j', id: 'ftj-1', uuid: '00000000-0000-4000-8000-000000000000', org_uuid: '00000000-0000-4000-8000-000000000001', status, config: {},
  created_at: '2026-01-01T00:00:00.000000Z', updated_at: '2026-01-01T00:02:00.000000Z', inference_config_path: null, error: null, progress: null, ...extra,
});
let seq = 0;
const ev = (type: string, at: string, message = '', data: Record<string, unknown> | null = null): JobEvent =>
  ({ id: `e${++seq}`, seq, created_at: `2026-01-01T00:${at}.000000Z`, level: 'info', type, event_type: type, message, data });
const ck = (id: string, step: number, metrics: Record<string, number>): Checkpoint => ({ id, name: `step_${step}`, step, metrics, num_bytes: 1, sha256: '', created_at: '' });

const started = [ev('job_registered', '00:00'), ev('attempt_started', '00:10'), ev('hyperparameters', '00:11', '', { values: { n_epochs: 30 } })];

test('completed with early stop: the epoch, the best macro_f1 checkpoint, the time from the first attempt', () => {
  const events = [...started, ev('early_stopped', '01:05', 'early stopping after epoch 12 of 30: no macro-F1 gain for 5 epochs (best 0.9412 at epoch 7)', { step: 120, epoch: 12 }), ev('job_completed', '01:15')];
  const s = summarizeJob(job('COMPLETED'), [ck('ckp_a', 1, { macro_f1: 0.5, epoch: 1 }), ck('ckp_b', 7, { macro_f1: 0.9412, epoch: 7 })], events);
  assert.equal(s.outcome, 'early_stopped');
  assert.equal(s.reason, 'early stop at epoch 12 of 30: no macro-F1 gain for 5 epochs (best 0.9412 at epoch 7)');
  assert.deepEqual(s.best, { metric: 'macro_f1', value: 0.9412, checkpoint_id: 'ckp_b', step: 7, epoch: 7 });
  assert.equal(s.duration_seconds, 65);
  assert.equal(summaryText(s), 'early stop at epoch 12 of 30: no macro-F1 gain for 5 epochs (best 0.9412 at epoch 7) · best macro_f1 0.9412 at ckp_b (step 7) · took 1 min 05 s');
});

test('completed, stopped, cancelled, failed, running: each says why', () => {
  assert.equal(summarizeJob(job('COMPLETED'), [], [...started, ev('job_completed', '00:40')]).reason, 'completed all 30 epochs');
  const stopped = summarizeJob(job('STOPPED'), [ck('ckp_s', 4, { eval_loss: 0.3 }), ck('ckp_t', 6, { eval_loss: 0.4 })], [...started, ev('job_stopped', '00:20')]);
  assert.equal(stopped.reason, 'stopped on request; the last committed checkpoint was kept');
  assert.deepEqual([stopped.best?.metric, stopped.best?.checkpoint_id], ['eval_loss', 'ckp_s'], 'the lowest loss');
  assert.equal(summarizeJob(job('CANCELLED'), [], [...started, ev('cancelled', '00:30', 'Cancelled from RUNNING: training process killed, no further checkpoints')]).reason,
    'cancelled from RUNNING: training process killed, no further checkpoints');
  assert.equal(summarizeJob(job('FAILED', { error: { code: 'invalid_dataset', message: 'a.csv line 3: not a number' } }), [], started).reason, 'failed: invalid_dataset: a.csv line 3: not a number');
  const running = summarizeJob(job('RUNNING'), [], started, () => Date.parse('2026-01-01T00:00:40Z'));
  assert.deepEqual([running.outcome, running.duration_seconds, running.ended_at], ['running', 30, null]);
  assert.equal(summaryText(running), 'no checkpoint yet · running for 30 s');
});

test('best checkpoint: macro_f1, then accuracy, then the lowest loss; ties go to the later step', () => {
  assert.equal(bestCheckpoint([ck('a', 1, { macro_f1: 0.9 }), ck('b', 2, { macro_f1: 0.9 })])?.checkpoint_id, 'b');
  assert.equal(bestCheckpoint([ck('a', 1, { eval_accuracy: 0.8, loss: 1 }), ck('b', 2, { eval_accuracy: 0.7, loss: 0.5 })])?.checkpoint_id, 'a');
  assert.equal(bestCheckpoint([]), null);
  assert.deepEqual([formatDuration(12.3), formatDuration(65), formatDuration(4000), formatDuration(null)], ['12 s', '1 min 05 s', '1 h 06 min', '-']);
});
