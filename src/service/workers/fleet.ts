/**
 * The runner fleet's status for GET /v0.5/fine-tune/status: READY (a live worker is idle), BUSY (every
 * live worker is training), STALE (workers exist but none heartbeated within 3 intervals), ERROR (no
 * worker registered at all: jobs would queue forever). The workers are shared by every organization,
 * so their counts are the fleet's; the job counts (`jobs_by_status`, `queue_depth`, `active_jobs`) are
 * the caller's organization's only: another organization's activity is not the caller's business.
 */
import { ACTIVE_STATUSES } from '../../domain/status.js';
import type { ServiceCore } from '../deps.js';

export interface FleetStatus {
  status: 'READY' | 'BUSY' | 'STALE' | 'ERROR';
  updated_at: number;
  workers: number;
  live_workers: number;
  active_jobs: number;
  queue_depth: number;
  jobs_by_status: Record<string, number>;
}

export interface FleetDeps extends Pick<ServiceCore, 'store' | 'clock'> {
  heartbeatMs: number;
}

export class FleetService {
  constructor(private readonly d: FleetDeps) {}

  async status(org_uuid: string): Promise<FleetStatus> {
    const now = this.d.clock.now();
    const workers = await this.d.store.listWorkers();
    const live = workers.filter((w) => now - w.last_seen_at <= 3 * this.d.heartbeatMs);
    const running = live.reduce((n, w) => n + w.active_jobs, 0);
    const capacity = live.reduce((n, w) => n + w.concurrency, 0);
    const byStatus = await this.d.store.countJobsByStatus(org_uuid);
    const status = workers.length === 0 ? 'ERROR' : live.length === 0 ? 'STALE' : running >= capacity ? 'BUSY' : 'READY';
    const updated = workers.reduce((t, w) => Math.max(t, w.last_seen_at), 0) || now;
    const active = ACTIVE_STATUSES.reduce((n, s) => n + (byStatus[s] ?? 0), 0);
    return { status, updated_at: updated, workers: workers.length, live_workers: live.length, active_jobs: active, queue_depth: byStatus.REGISTERED ?? 0, jobs_by_status: byStatus };
  }
}
