/**
 * The lease reaper and stop-grace enforcer (docs/spec.md#lifecycle). Each tick: attempts whose lease expired
 * are lost → their jobs re-queued (resume from the last committed checkpoint), FAILED worker_lost
 * past the attempt budget, or, when STOPPING, finalized here as STOPPED; STOPPING jobs past the grace
 * budget are finalized here too (the worker sees a terminal status and kills its trainer). Every step
 * is an event, so "unreachable" never silently becomes "failed".
 */
import type { Job } from '../../domain/types.js';
import type { Clock } from '../../lib/clock.js';
import type { Store } from '../../store/store.js';
import type { Bus } from '../bus.js';
import type { Finalizer } from '../jobs/finalize.js';

export interface RecoverySettings {
  maxAttempts: number;
  stopGraceMs: number;
}

export interface TickReport {
  requeued: number;
  failed: number;
  stopped: number;
}

export class Recovery {
  constructor(
    private readonly store: Store,
    private readonly finalizer: Finalizer,
    private readonly clock: Clock,
    private readonly bus: Bus,
    private readonly settings: RecoverySettings,
  ) {}

  /** One pass. `dead` names a worker-id prefix known dead (this node's previous boot). */
  async tick(dead?: { prefix: string; except: string }): Promise<TickReport> {
    const report: TickReport = { requeued: 0, failed: 0, stopped: 0 };
    const lost = await this.store.reapLostAttempts(this.clock.now(), this.settings.maxAttempts, dead);
    for (const l of lost) {
      this.bus.emit('job-changed', l.job);
      if (l.action === 'requeued') report.requeued++, this.bus.emit('work-queued');
      if (l.action === 'failed') report.failed++;
      if (l.action === 'released' && l.job.status === 'STOPPING') {
        if (await this.finalizeStopping(l.job, 'lost_stopping', 'The worker was lost while stopping; finalized by the control plane from the last committed checkpoint')) report.stopped++;
      }
    }
    for (const job of await this.store.listOverdueStopping(this.clock.now() - this.settings.stopGraceMs)) {
      const msg = `Stop grace budget of ${Math.round(this.settings.stopGraceMs / 1000)} s exceeded; attempt killed and job finalized by the control plane from the last committed checkpoint`;
      if (await this.finalizeStopping(job, 'finish_stop', msg)) report.stopped++;
    }
    return report;
  }

  private async finalizeStopping(job: Job, action: 'lost_stopping' | 'finish_stop', message: string): Promise<boolean> {
    const path = await this.finalizer.writeInferenceConfig(job);
    const done = await this.store.transition(job.uuid, action, 'STOPPING', this.clock.now(), { level: 'warn', type: 'job_stopped', message, data: { inference_config_path: path } }, { inference_config_path: path });
    if (done) this.bus.emit('job-changed', done);
    return done !== null;
  }
}
