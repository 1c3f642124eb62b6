/**
 * The lease reaper and stop-grace enforcer (docs/spec.md#lifecycle). Each tick: attempts whose lease expired
 * are lost → their jobs re-queued (resume from the last committed checkpoint), FAILED worker_lost
 * past the attempt budget, or, when STOPPING, finalized here as STOPPED; STOPPING jobs past the grace
 * budget are finalized here too (the worker sees a terminal status and kills its trainer). Every step
 * is an event, so "unreachable" never silently becomes "failed".
 */
import type { Job } from '../../domain/types.js';
import type { ServiceCore } from '../deps.js';
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

export interface RecoveryDeps extends Pick<ServiceCore, 'store' | 'clock' | 'bus' | 'events'> {
  finalizer: Finalizer;
  settings: RecoverySettings;
}

export class Recovery {
  private readonly store: RecoveryDeps['store'];
  private readonly clock: RecoveryDeps['clock'];
  private readonly settings: RecoverySettings;

  constructor(private readonly d: RecoveryDeps) {
    this.store = d.store;
    this.clock = d.clock;
    this.settings = d.settings;
  }

  /** One pass. `dead` names a worker-id prefix known dead (this node's previous boot). */
  async tick(dead?: { prefix: string; except: string }): Promise<TickReport> {
    const report: TickReport = { requeued: 0, failed: 0, stopped: 0 };
    const lost = await this.store.reapLostAttempts(this.clock.now(), this.settings.maxAttempts, dead);
    for (const l of lost) {
      this.d.bus.emit('job-changed', l.job);
      if (l.action === 'requeued') report.requeued++, this.d.bus.emit('work-queued');
      if (l.action === 'failed') report.failed++;
      if (l.action === 'released' && l.job.status === 'STOPPING') {
        if (await this.finalizeStopping(l.job, 'lost_stopping', 'The worker was lost while stopping; finalized by the control plane from the last committed checkpoint')) report.stopped++;
      }
    }
    for (const job of await this.store.listOverdueStopping(this.clock.now() - this.settings.stopGraceMs)) {
      const msg = `Stop grace budget of ${Math.round(this.settings.stopGraceMs / 1000)} s exceeded; attempt killed and job finalized by the control plane from the last committed checkpoint`;
      if (await this.finalizeStopping(job, 'finish_stop', msg)) report.stopped++;
    }
    if (report.requeued + report.failed + report.stopped > 0) this.d.events.emit('lostAttemptsSettled', { ...report, dead_prefix: dead?.prefix ?? null });
    return report;
  }

  private async finalizeStopping(job: Job, action: 'lost_stopping' | 'finish_stop', message: string): Promise<boolean> {
    return (await this.d.finalizer.finishStop(job, { by: 'control_plane', action, message })) !== null;
  }
}
