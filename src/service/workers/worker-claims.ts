/**
 * Long-poll claims of remote workers (docs/scaling.md): a claim request that finds no work waits, up
 * to its deadline, for a `work-queued` wake-up (in-process bus; fed by PostgreSQL NOTIFY on several
 * replicas) instead of polling. Wake-ups go to ONE waiter each, oldest first: with 16 idle workers a
 * new job costs one claim transaction, not 16 (a broadcast made 15 of them lose the race for nothing).
 * Invariants: a waiter is registered before its first claim, so a job queued between that claim and
 * the wait is never missed; a waiter that was woken but leaves without using the wake-up (it claimed
 * something on its own, timed out or was aborted) passes it on to the next waiter.
 */
import type { Bus } from '../bus.js';

interface Waiter {
  woken: boolean;
  resolve: (() => void) | null;
}

export class ClaimWaiters {
  private readonly queue: Waiter[] = [];
  private readonly off: () => void;
  private closed = false;

  constructor(bus: Bus) {
    this.off = bus.on('work-queued', () => this.wakeOne());
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `tryClaim` until it returns something, `deadlineMs` (performance.now() time) passes or
   * `signal` aborts; between tries it sleeps until a wake-up. Returns null when nothing was claimed.
   */
  async run<T>(tryClaim: () => Promise<T | null>, deadlineMs: number, signal: AbortSignal): Promise<T | null> {
    const w: Waiter = { woken: false, resolve: null };
    this.queue.push(w);
    let result: T | null = null;
    const onAbort = (): void => w.resolve?.();
    signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (this.closed || signal.aborted) return null;
        w.woken = false;
        result = await tryClaim();
        if (result !== null) return result;
        if (w.woken) continue; // woken while claiming: the job may have been queued after our read
        const left = deadlineMs - performance.now();
        if (left <= 0 || signal.aborted || this.closed) return null;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => resolve(), left);
          w.resolve = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        w.resolve = null;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      const i = this.queue.indexOf(w);
      if (i >= 0) this.queue.splice(i, 1);
      // A wake-up that arrived after our last claim started is unused (the job it announced may
      // still be queued): the next waiter gets it.
      if (w.woken) this.wakeOne();
    }
  }

  private wakeOne(): void {
    const w = this.queue.find((x) => !x.woken);
    if (!w) return;
    w.woken = true;
    w.resolve?.();
  }

  /** Every waiting claim returns null now (shutdown: workers re-poll another replica). */
  close(): void {
    this.closed = true;
    this.off();
    for (const w of this.queue) w.resolve?.();
  }
}
