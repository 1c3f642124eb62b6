/**
 * Runs one claimed attempt end to end: spawn the trainer, relay its messages to the control plane
 * (fenced), heartbeat, deliver stop (a protocol message: finish the evaluation, exit cleanly) and
 * cancel (SIGKILL of the process group), and settle the attempt from the trainer's exit.
 * Invariants: after a kill nothing more is committed for this attempt; uncommitted checkpoint files
 * are deleted with the attempt's scratch folder.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { isTerminal, type JobStatus } from '../domain/status.js';
import type { Job, JobProgress } from '../domain/types.js';
import type { ClaimedWork } from '../domain/work.js';
import { EXIT_INVALID_CONFIG, EXIT_INVALID_DATASET, PROTOCOL_VERSION, type TrainerMessage, type TrainerSpec } from '../trainers/protocol.js';
import { TrainerProcess, type TrainerExit } from './trainer-process.js';
import { EtaEstimator } from './eta.js';
import { evalValues, hyperparametersMessage, requestedHyperparameters } from './report-values.js';
import type { StatusFeed, WorkSource } from './work-source.js';

export interface RunnerSettings {
  heartbeatMs: number;
  builtinCommand: string[]; // node + compiled trainer entry
  env: Record<string, string | undefined>;
  progressWriteMs: number; // at most one progress write per this interval (the trainer may report every step)
}

export class JobRunner {
  private proc: TrainerProcess | null = null;
  private stopSent = false;
  private ended = false; // cancelled, lease lost or finalized elsewhere: ignore the rest
  private started = false;
  private lastError: { code: string; message: string } | null = null;
  private doneSeen = false;
  private lastProgress: JobProgress | null = null;
  private lastProgressWrite = 0;
  private readonly eta = new EtaEstimator();
  private status: JobStatus;

  constructor(private readonly source: WorkSource, private readonly work: ClaimedWork, private readonly s: RunnerSettings, private readonly feed?: StatusFeed) {
    this.status = work.job.status;
  }

  get job(): Job {
    return this.work.job;
  }

  async run(): Promise<void> {
    const { fence } = this.work;
    const off = this.feed?.onStatus(this.job.uuid, (st) => this.onStatus(st));
    const beat = setInterval(() => void this.beat(), this.s.heartbeatMs);
    const workDir = await this.source.scratchDir(this.job, this.work.attempt_number);
    try {
      const first = await this.source.heartbeat(fence);
      if (first === null) return;
      if (first === 'STOPPING') {
        // Stopped while being claimed: nothing trained in this attempt, finalize from what exists.
        await this.source.finish(fence, this.job.uuid);
        return;
      }
      this.proc = new TrainerProcess(this.command(), this.spec(workDir), { ...this.s.env, ...this.work.entry.env }, (m) => this.onMessage(m, workDir), (line) => void this.log('info', line));
      this.onStatus(first);
      const exit = await this.proc.exited;
      await this.flushProgress(true);
      if (exit.killed || this.ended) return;
      if (exit.code === 0 && this.doneSeen) {
        await this.source.finish(fence, this.job.uuid);
      } else if (exit.code === EXIT_INVALID_DATASET || exit.code === EXIT_INVALID_CONFIG) {
        const code = exit.code === EXIT_INVALID_DATASET ? 'invalid_dataset' : 'invalid_config';
        await this.source.fail(fence, code, this.lastError?.message ?? `trainer exited with code ${exit.code}`);
      } else if (this.status === 'STOPPING') {
        await this.source.event(fence, this.job, 'warn', 'trainer_exited', `Trainer exited (code ${exit.code}, signal ${exit.signal}) while stopping; finalizing from the last committed checkpoint`);
        await this.source.finish(fence, this.job.uuid);
      } else if (exit.signal) {
        // A signal ftnode did not send (kill() marks ours): not retried, since an out-of-memory kill
        // would recur on every attempt with the same data (docs/lifecycle.md).
        await this.source.fail(fence, 'trainer_killed', `${killedMessage(exit)}${exit.stderrTail ? `; stderr: ${exit.stderrTail.slice(-1000)}` : ''}`);
      } else {
        const why = this.lastError?.message ?? `trainer exited with code ${exit.code}`;
        await this.source.fail(fence, 'trainer_failed', `${why}${exit.stderrTail ? `; stderr: ${exit.stderrTail.slice(-1000)}` : ''}`);
      }
    } finally {
      clearInterval(beat);
      off?.();
      this.proc?.kill();
      await rm(workDir, { recursive: true, force: true }); // uncommitted checkpoint files go with it
    }
  }

  private command(): string[] {
    const e = this.work.entry;
    if (e.trainer === 'external') {
      if (!e.command || e.command.length === 0) throw new Error(`model '${this.job.model}' has no trainer command`);
      return e.command;
    }
    return this.s.builtinCommand;
  }

  private spec(work_dir: string): TrainerSpec {
    const j = this.job;
    const seed = typeof j.config.seed === 'number' ? j.config.seed : 0;
    return {
      protocol: PROTOCOL_VERSION, job_id: j.id, attempt: this.work.attempt_number, model: j.model, trainer: this.work.entry.trainer,
      config: j.config, datasets: this.work.datasets, work_dir, resume: this.work.resume, seed,
      ...(this.work.resources ? { resources: this.work.resources } : {}),
    };
  }

  private async beat(): Promise<void> {
    if (this.ended) return;
    const st = await this.source.heartbeat(this.work.fence).catch(() => undefined);
    if (st === undefined) return; // control plane unreachable: keep going until the lease says otherwise
    if (st === null) return this.abandon();
    this.onStatus(st);
  }

  /** Status from a heartbeat or the push feed: deliver stop once, kill on anything terminal. */
  private onStatus(st: JobStatus): void {
    this.status = st;
    if (st === 'STOPPING' && !this.stopSent && this.proc) {
      this.stopSent = true;
      this.proc.send({ type: 'stop' });
    }
    if (isTerminal(st) || st === 'REGISTERED') this.abandon();
  }

  /** Kill the trainer and ignore whatever else it reports (cancel, lost lease, shutdown). */
  abandon(): void {
    this.ended = true;
    this.proc?.kill();
  }

  private async onMessage(m: TrainerMessage, workDir: string): Promise<void> {
    if (this.ended) return;
    const { fence } = this.work;
    if (!this.started && m.type !== 'log') {
      this.started = true;
      await this.source.advance(fence, 'start_training', { level: 'info', type: 'training_started', message: `Trainer ${this.work.entry.trainer} started (attempt ${this.work.attempt_number}${this.work.resume ? `, resuming from ${this.work.resume.checkpoint_id} at step ${this.work.resume.step}` : ''})` });
    }
    switch (m.type) {
      case 'hyperparameters': {
        const numeric = Object.fromEntries(Object.entries(m.values).filter(([, v]) => typeof v === 'number').map(([k, v]) => [`hp_${k}`, v as number]));
        await this.source.progress(fence, this.job, this.lastProgress ?? { step: 0, total_steps: null, epoch: null, phase: 'training', eta_seconds: null }, m.values);
        await this.source.metrics(fence, this.job, 0, numeric);
        const userSet = requestedHyperparameters(this.job.config).filter((k) => k in m.values);
        await this.source.event(fence, this.job, 'info', 'hyperparameters', hyperparametersMessage(m.values, userSet), { values: m.values, user_set: userSet });
        return;
      }
      case 'progress':
        this.lastProgress = { step: m.step, total_steps: m.total_steps, epoch: m.epoch ?? null, phase: this.phaseFor(m.phase), eta_seconds: this.eta.estimate(m.step, m.total_steps) };
        return this.flushProgress(false);
      case 'early_stop': {
        // The loop ends at this step: "step N of M" and the remaining time must say so from now on.
        this.eta.stopAt(m.step);
        this.lastProgress = { ...(this.lastProgress ?? { epoch: m.epoch ?? null, phase: 'training' }), step: m.step, total_steps: m.step, eta_seconds: 0 };
        await this.flushProgress(true);
        await this.source.event(fence, this.job, 'info', 'early_stopped', m.message.slice(0, 2000), { step: m.step, ...(m.epoch !== undefined ? { epoch: m.epoch } : {}) });
        return;
      }
      case 'metrics':
        await this.source.metrics(fence, this.job, m.step, m.values);
        return;
      case 'eval_start':
        this.lastProgress = { ...(this.lastProgress ?? { step: m.step, total_steps: null, epoch: null, eta_seconds: null }), phase: this.status === 'STOPPING' ? 'finishing_eval' : 'evaluating' };
        await this.flushProgress(true);
        await this.source.event(fence, this.job, 'info', 'eval_started', `Evaluation started at step ${m.step}`, { step: m.step });
        return;
      case 'eval_end': {
        const values = evalValues(m.metrics);
        await this.source.metrics(fence, this.job, m.step, values);
        const epoch = typeof m.metrics.epoch === 'number' ? m.metrics.epoch : undefined;
        await this.source.event(fence, this.job, 'info', 'eval_finished', `Evaluation at step ${m.step}${epoch !== undefined ? ` (epoch ${epoch})` : ''}: ${JSON.stringify(m.metrics)}`,
          { step: m.step, ...(epoch !== undefined ? { epoch } : {}), metrics: m.metrics, values });
        this.lastProgress = this.lastProgress && { ...this.lastProgress, phase: this.phaseFor(undefined) };
        return;
      }
      case 'checkpoint': {
        const path = isAbsolute(m.path) ? m.path : join(workDir, m.path);
        const c = await this.source.commitCheckpoint(fence, this.job, { step: m.step, name: m.name ?? `step_${m.step}`, path, size: m.size, sha256: m.sha256, metrics: m.metrics, meta: m.meta ?? {} }).catch(async (e: Error) => {
          await this.log('error', `checkpoint at step ${m.step} rejected: ${e.message}`);
          return null;
        });
        this.proc?.send({ type: 'checkpoint_result', step: m.step, committed: c !== null, checkpoint_id: c?.id ?? null });
        return;
      }
      case 'output': {
        // Batch jobs: an error (bad name, size/sha256 mismatch) is recorded; the job goes on with its other inputs.
        const path = isAbsolute(m.path) ? m.path : join(workDir, m.path);
        await this.source.commitOutput(fence, this.job, { filename: m.filename, path, size: m.size, sha256: m.sha256, input_file_id: m.input_file_id })
          .catch((e: Error) => this.log('error', `output ${m.filename} rejected: ${e.message}`));
        return;
      }
      case 'finalizing':
        if (this.status === 'RUNNING') {
          this.lastProgress = { ...(this.lastProgress ?? { step: 0, total_steps: null, epoch: null, eta_seconds: null }), phase: 'final_evaluation' };
          await this.source.advance(fence, 'finalize', { level: 'info', type: 'finalizing', message: 'Training loop finished; running the final evaluation' }, this.lastProgress);
        }
        return;
      case 'log':
        return this.log(m.level, m.message);
      case 'error':
        this.lastError = { code: m.code, message: m.message };
        await this.log('error', `${m.code}: ${m.message}`);
        return;
      case 'done':
        this.doneSeen = true;
        return;
      default:
        return;
    }
  }

  private phaseFor(reported: string | undefined): string {
    if (this.status === 'STOPPING') return 'stopping';
    if (this.status === 'FINALIZING') return 'final_evaluation';
    return reported ?? 'training';
  }

  private async flushProgress(force: boolean): Promise<void> {
    if (!this.lastProgress || this.ended) return;
    const now = performance.now(); // a write-rate limit, not a lease: monotonic process time is right here
    if (!force && now - this.lastProgressWrite < this.s.progressWriteMs) return;
    this.lastProgressWrite = now;
    await this.source.progress(this.work.fence, this.job, this.lastProgress);
  }

  private async log(level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    if (this.ended) return;
    await this.source.event(this.work.fence, this.job, level, 'log', message.slice(0, 2000));
  }
}

/** What ended a trainer that ftnode did not kill, in words a user can act on. */
export function killedMessage(exit: TrainerExit): string {
  const peak = exit.peakRssBytes === null ? '' : `; its peak memory was at least ${(exit.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
  const cause = exit.signal === 'SIGKILL'
    ? ', which ftnode did not send: most likely the kernel\'s out-of-memory killer (the machine or its memory limit ran out of memory)'
    : ', which ftnode did not send';
  return `the trainer was killed by signal ${exit.signal}${cause}${peak}`;
}
