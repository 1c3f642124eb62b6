/**
 * What happened to a job, in one place for the CLI (`jobs get`, the last line of `jobs watch`) and the
 * dashboard's job header: why it ended (completed, early stop at epoch N, stopped, cancelled, failed
 * with its reason), the best checkpoint and its score, and how long it ran. Built only from what the
 * API already answers (the job record, its checkpoints, its events), so it works for every model and
 * API version; browser-safe.
 * Best checkpoint: the best value of the first metric every checkpoint of the job has among macro_f1
 * (higher is better; Omega's selection metric), eval_accuracy / accuracy (higher), eval_loss / loss
 * (lower); ties go to the later step. Duration: from the first attempt start (queue time excluded) to
 * the terminal event, or to now while the job runs.
 */
import type { Checkpoint, Job, JobEvent } from './types.js';
import { isTerminalStatus } from './types.js';

export type Outcome = 'queued' | 'running' | 'completed' | 'early_stopped' | 'stopped' | 'cancelled' | 'failed';

export interface BestCheckpoint {
  metric: string;
  value: number;
  checkpoint_id: string;
  step: number;
  epoch: number | null;
}

export interface JobSummary {
  status: string;
  outcome: Outcome;
  /** One sentence: "early stop at epoch 12 of 60: no macro-F1 gain for 5 epochs". */
  reason: string;
  early_stop: { step: number; epoch: number | null } | null;
  best: BestCheckpoint | null;
  duration_seconds: number | null;
  started_at: string | null;
  ended_at: string | null;
}

const METRICS: Array<{ keys: string[]; higher: boolean }> = [
  { keys: ['macro_f1'], higher: true },
  { keys: ['eval_accuracy', 'accuracy'], higher: true },
  { keys: ['eval_loss', 'loss'], higher: false },
];
const END_EVENTS = new Set(['job_completed', 'job_stopped', 'cancelled', 'job_failed']);

export function bestCheckpoint(list: Checkpoint[]): BestCheckpoint | null {
  for (const { keys, higher } of METRICS) {
    const key = keys.find((k) => list.length > 0 && list.every((c) => typeof c.metrics[k] === 'number'));
    if (!key) continue;
    let best: Checkpoint | null = null;
    for (const c of list) {
      const v = c.metrics[key]!;
      const b = best?.metrics[key];
      if (!best || (higher ? v > b! : v < b!) || (v === b && c.step > best.step)) best = c;
    }
    const epoch = best!.metrics.epoch;
    return { metric: key, value: best!.metrics[key]!, checkpoint_id: best!.id, step: best!.step, epoch: typeof epoch === 'number' ? epoch : null };
  }
  return null;
}

function lastOf(events: JobEvent[], type: string): JobEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.type === type) return events[i];
  return undefined;
}

export function summarizeJob(job: Job, checkpoints: Checkpoint[], events: JobEvent[], now: () => number = Date.now): JobSummary {
  const started = events.find((e) => e.type === 'attempt_started' || e.type === 'training_started');
  const terminal = isTerminalStatus(job.status);
  const end = terminal ? lastOf(events, 'job_completed') ?? lastOf(events, 'job_stopped') ?? lastOf(events, 'cancelled') ?? lastOf(events, 'job_failed') : undefined;
  const endedAt = terminal ? (end && END_EVENTS.has(end.type) ? end.created_at : job.updated_at) : null;
  const startMs = started ? Date.parse(started.created_at) : NaN;
  const endMs = endedAt ? Date.parse(endedAt) : now();
  const duration = Number.isFinite(startMs) ? Math.max(0, (endMs - startMs) / 1000) : null;
  const early = lastOf(events, 'early_stopped');
  const earlyData = early?.data as { step?: number; epoch?: number } | null | undefined;
  const earlyStop = early ? { step: Number(earlyData?.step ?? 0), epoch: typeof earlyData?.epoch === 'number' ? earlyData.epoch : null } : null;
  const hp = (lastOf(events, 'hyperparameters')?.data as { values?: Record<string, unknown> } | null | undefined)?.values ?? {};
  const nEpochs = typeof hp.n_epochs === 'number' ? hp.n_epochs : null;
  const best = bestCheckpoint(checkpoints);
  let outcome: Outcome;
  let reason: string;
  switch (job.status) {
    case 'COMPLETED':
      outcome = earlyStop ? 'early_stopped' : 'completed';
      reason = earlyStop
        ? `early stop at ${earlyStop.epoch !== null ? `epoch ${earlyStop.epoch}${nEpochs ? ` of ${nEpochs}` : ''}` : `step ${earlyStop.step}`}${early?.message ? `: ${early.message.replace(/^early stopping after epoch \d+( of \d+)?: /, '')}` : ''}`
        : nEpochs ? `completed all ${nEpochs} epochs` : 'completed';
      break;
    case 'STOPPED':
      outcome = 'stopped';
      reason = `stopped on request${best ? `; the last committed checkpoint was kept` : '; no checkpoint had been committed'}`;
      break;
    case 'CANCELLED':
      outcome = 'cancelled';
      reason = lastOf(events, 'cancelled')?.message.replace(/^Cancelled/, 'cancelled') ?? 'cancelled';
      break;
    case 'FAILED':
      outcome = 'failed';
      reason = job.error ? `failed: ${job.error.code}: ${job.error.message}` : 'failed';
      break;
    case 'REGISTERED':
      outcome = 'queued';
      reason = 'waiting for a worker';
      break;
    default:
      outcome = 'running';
      reason = earlyStop ? `early stop at ${earlyStop.epoch !== null ? `epoch ${earlyStop.epoch}` : `step ${earlyStop.step}`}; finalizing` : job.status.toLowerCase();
  }
  return { status: job.status, outcome, reason, early_stop: earlyStop, best, duration_seconds: duration, started_at: started?.created_at ?? null, ended_at: endedAt };
}

/** 65 → "1 min 05 s"; 4000 → "1 h 06 min"; 12.3 → "12 s". */
export function formatDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  const t = Math.round(s);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4));

/** "macro_f1 0.9412 at ckp_… (step 7, epoch 7)". */
export function bestText(b: BestCheckpoint | null): string {
  if (!b) return 'no checkpoint';
  return `${b.metric} ${fmt(b.value)} at ${b.checkpoint_id} (step ${b.step}${b.epoch !== null && b.epoch !== b.step ? `, epoch ${b.epoch}` : ''})`;
}

/** One line: "early stop at epoch 12 of 60: … · best macro_f1 0.9412 at ckp_… (step 12) · 1 min 05 s". */
export function summaryText(s: JobSummary): string {
  if (s.outcome === 'running' || s.outcome === 'queued') {
    const so = [s.best ? `best so far ${bestText(s.best)}` : 'no checkpoint yet', s.duration_seconds !== null ? `running for ${formatDuration(s.duration_seconds)}` : ''];
    return [s.early_stop ? s.reason : '', ...so].filter(Boolean).join(' · ');
  }
  const parts = [s.reason];
  if (s.best || ['completed', 'early_stopped', 'stopped'].includes(s.outcome)) parts.push(`best ${bestText(s.best)}`);
  if (s.duration_seconds !== null) parts.push(`took ${formatDuration(s.duration_seconds)}`);
  return parts.join(' · ');
}
