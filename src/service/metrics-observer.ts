/**
 * Metrics and structured logs of the attempt lifecycle, as subscribers of the services' events
 * (events.ts): every claim, end, refusal and loss is counted and logged with a pino child logger
 * carrying job_id, job_uuid and attempt_id, for in-process and remote workers alike (both go through
 * the same AttemptsService, Recovery and WorkerApi, which emit). The services know nothing of either.
 */
import type { Logger } from 'pino';
import type { ServiceEvents } from './events.js';
import type { Metrics } from './metrics.js';

/** Subscribes; returns the function that unsubscribes everything. */
export function observeServices(events: ServiceEvents, m: Metrics, log: Logger | null, now: () => number): () => void {
  const offs = [
    events.on('attemptClaimed', (e) => {
      const retry = e.attempt_number > 1;
      m.claims.inc({ kind: retry ? 'retry' : 'first' });
      if (retry) m.attemptRetries.inc();
      else m.claimLatency.observe({}, Math.max(0, now() - e.job.created_at) / 1000);
      log?.child({ job_id: e.job.id, job_uuid: e.job.uuid, attempt_id: e.attempt_id }).info({ attempt: e.attempt_number, worker_id: e.worker_id, model: e.job.model, resume: e.resume_checkpoint_id }, 'attempt claimed');
    }),
    events.on('attemptFinished', (e) => {
      log?.child({ job_id: e.job?.id, job_uuid: e.job_uuid, attempt_id: e.attempt_id }).info({ status: e.job?.status ?? null }, 'attempt finished');
    }),
    events.on('attemptFailed', (e) => {
      if (e.refused) m.fencedRefusals.inc({ op: 'fail' });
      log?.child({ job_id: e.job?.id, job_uuid: e.job?.uuid, attempt_id: e.attempt_id }).warn({ code: e.code, refused: e.refused }, `attempt failed: ${e.message.slice(0, 300)}`);
    }),
    events.on('checkpointCommitted', (e) => {
      const c = e.checkpoint;
      log?.child({ job_id: e.job.id, job_uuid: e.job.uuid, attempt_id: e.attempt_id }).info({ checkpoint_id: c.id, step: c.step, bytes: c.num_bytes }, 'checkpoint committed');
    }),
    events.on('checkpointRefused', (e) => {
      m.fencedRefusals.inc({ op: 'checkpoint' });
      log?.child({ job_id: e.job.id, job_uuid: e.job.uuid, attempt_id: e.attempt_id }).warn({ step: e.step }, 'checkpoint refused: the attempt no longer holds its lease');
    }),
    events.on('writeRefused', (e) => m.fencedRefusals.inc({ op: e.op })),
    events.on('lostAttemptsSettled', (e) => {
      if (e.requeued) m.leaseExpirations.inc({ outcome: 'requeued' }, e.requeued);
      if (e.failed) m.leaseExpirations.inc({ outcome: 'failed' }, e.failed);
      if (e.stopped) m.controlPlaneStops.inc({}, e.stopped);
      log?.warn(e, 'recovery: lost attempts settled');
    }),
  ];
  return () => offs.forEach((off) => off());
}
