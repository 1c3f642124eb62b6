/**
 * A WorkSource whose writes outlive a short database outage. The in-process pool calls the
 * AttemptsService directly, so when PostgreSQL restarts its progress, metrics, events, checkpoint
 * commits and finish would fail at once and the attempt would only recover when its lease ran out
 * (a checkpoint reported during the outage lost). Remote workers get the same effect from their
 * HTTP retries of 503 `database_unavailable`. Here each write is retried with capped exponential
 * backoff (100 ms doubling to 1 s, full jitter) while `retryable(err)` holds, for at most `budgetMs`
 * (the lease: past it the attempt is lost anyway and the reaper takes over). Claims and heartbeats
 * are not wrapped: the pool's claim loop already backs off, and a missed heartbeat is harmless.
 * Only failures that certainly wrote nothing are retried (the composition root passes a `retryable`
 * that refuses StoreUnavailableError.outcomeUnknown: a COMMIT lost in flight may have landed, and a
 * checkpoint committed twice would be listed twice). A checkpoint or output whose record could not
 * be written is moved back where the trainer left it (BlobStore.returnFile), so the retry imports
 * it again. Every write stays fenced by the attempt's lease token. Which fenced calls are retried is
 * the protocol table's `retried` (api/worker-protocol.ts); the rest pass through unchanged.
 */
import { FENCED, FENCED_NAMES, type FencedMethods } from '../api/worker-protocol.js';
import type { Checkpoint, Job } from '../domain/types.js';
import type { CheckpointReport, ClaimedWork, Fence, OutputReport } from '../domain/work.js';
import { backoffDelay } from '../lib/backoff.js';
import type { WorkSource } from './work-source.js';

export interface RetryingOptions {
  retryable: (err: unknown) => boolean;
  budgetMs: number;
  /** Injected for tests; the default really waits. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onRetry?: (op: string, err: unknown, attempt: number) => void;
}

const BACKOFF = { baseMs: 100, maxMs: 1_000 };

/** The fenced methods are defined in the constructor, one per row of the protocol table. */
export interface RetryingWorkSource extends FencedMethods {}

export class RetryingWorkSource implements WorkSource {
  constructor(private readonly inner: WorkSource, private readonly o: RetryingOptions) {
    for (const name of FENCED_NAMES) {
      const call = (inner[name] as (...a: unknown[]) => Promise<unknown>).bind(inner);
      const method = FENCED[name].retried ? (...a: unknown[]) => this.again(name, () => call(...a)) : call;
      Object.defineProperty(this, name, { value: method });
    }
  }

  get leaseMs(): number {
    return this.inner.leaseMs;
  }

  private async again<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const now = this.o.now ?? Date.now;
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = now() + this.o.budgetMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!this.o.retryable(err) || now() >= deadline) throw err;
        this.o.onRetry?.(op, err, attempt);
        await sleep(Math.max(10, backoffDelay(attempt, BACKOFF)));
      }
    }
  }

  claim(worker_id: string): Promise<ClaimedWork | null> {
    return this.inner.claim(worker_id);
  }
  scratchDir(job: Job, attempt_number: number): Promise<string> {
    return this.inner.scratchDir(job, attempt_number);
  }
  commitCheckpoint(fence: Fence, job: Job, report: CheckpointReport): Promise<Checkpoint | null> {
    return this.again('commitCheckpoint', () => this.inner.commitCheckpoint(fence, job, report));
  }
  commitOutput(fence: Fence, job: Job, report: OutputReport): Promise<boolean> {
    return this.again('commitOutput', () => this.inner.commitOutput(fence, job, report));
  }
}
