/**
 * Metrics and structured logs for the attempt lifecycle, added around the AttemptsService and
 * Recovery instances by the composition root (their own code stays unaware of both): every claim,
 * end, refusal and loss is counted and logged with a pino child logger carrying job_id, job_uuid and
 * attempt_id, for in-process and remote workers alike (both go through these instances).
 */
import type { Logger } from 'pino';
import type { AttemptsService } from './attempts-service.js';
import type { Metrics } from '../metrics.js';
import type { Recovery } from './recovery.js';

/** Wraps claim, finish, fail and commitCheckpoint of `a` in place; returns it. */
export function observeAttempts(a: AttemptsService, m: Metrics, log: Logger | null, now: () => number): AttemptsService {
  const claim = a.claim.bind(a);
  a.claim = async (worker_id) => {
    const w = await claim(worker_id);
    if (!w) return w;
    const retry = w.attempt_number > 1;
    m.claims.inc({ kind: retry ? 'retry' : 'first' });
    if (retry) m.attemptRetries.inc();
    else m.claimLatency.observe({}, Math.max(0, now() - w.job.created_at) / 1000);
    log?.child({ job_id: w.job.id, job_uuid: w.job.uuid, attempt_id: w.fence.attempt_id }).info({ attempt: w.attempt_number, worker_id, model: w.job.model, resume: w.resume?.checkpoint_id ?? null }, 'attempt claimed');
    return w;
  };
  const finish = a.finish.bind(a);
  a.finish = async (fence, job_uuid) => {
    const job = await finish(fence, job_uuid);
    log?.child({ job_id: job?.id, job_uuid, attempt_id: fence.attempt_id }).info({ status: job?.status ?? null }, 'attempt finished');
    return job;
  };
  const fail = a.fail.bind(a);
  a.fail = async (fence, code, message) => {
    const job = await fail(fence, code, message);
    if (!job) m.fencedRefusals.inc({ op: 'fail' });
    log?.child({ job_id: job?.id, job_uuid: job?.uuid, attempt_id: fence.attempt_id }).warn({ code, refused: job === null }, `attempt failed: ${message.slice(0, 300)}`);
    return job;
  };
  const commit = a.commitCheckpoint.bind(a);
  a.commitCheckpoint = async (fence, job, r) => {
    const c = await commit(fence, job, r);
    const l = log?.child({ job_id: job.id, job_uuid: job.uuid, attempt_id: fence.attempt_id });
    if (c) l?.info({ checkpoint_id: c.id, step: c.step, bytes: c.num_bytes }, 'checkpoint committed');
    else {
      m.fencedRefusals.inc({ op: 'checkpoint' });
      l?.warn({ step: r.step }, 'checkpoint refused: the attempt no longer holds its lease');
    }
    return c;
  };
  return a;
}

/** Wraps recovery.tick of `r` in place: lost attempts counted by outcome and logged. */
export function observeRecovery(r: Recovery, m: Metrics, log: Logger | null): Recovery {
  const tick = r.tick.bind(r);
  r.tick = async (dead) => {
    const rep = await tick(dead);
    if (rep.requeued) m.leaseExpirations.inc({ outcome: 'requeued' }, rep.requeued);
    if (rep.failed) m.leaseExpirations.inc({ outcome: 'failed' }, rep.failed);
    if (rep.stopped) m.controlPlaneStops.inc({}, rep.stopped);
    if (rep.requeued + rep.failed + rep.stopped > 0) log?.warn({ ...rep, dead_prefix: dead?.prefix ?? null }, 'recovery: lost attempts settled');
    return rep;
  };
  return r;
}
