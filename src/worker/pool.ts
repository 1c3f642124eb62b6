/**
 * The in-process worker pool: `concurrency` slots that claim jobs as soon as work is queued (a wake
 * signal, not a polling interval; a 5 s safety poll catches anything missed) and run each in a
 * JobRunner. Worker ids are `builtin:<node>:<boot>:<slot>`: after a crash the next boot of the same
 * node knows every attempt of an earlier boot is dead and recovers it at once, without waiting for
 * its lease to expire.
 */
import type { Clock } from '../lib/clock.js';
import { randomHex } from '../lib/ids.js';
import { WakeSignal } from '../lib/signal.js';
import type { WorkerRecord } from '../domain/types.js';
import { JobRunner, type RunnerSettings } from './job-runner.js';
import type { StatusFeed, WorkSource } from './work-source.js';

const SAFETY_POLL_MS = 5_000;

export interface PoolOptions extends RunnerSettings {
  node: string;
  concurrency: number;
  kind: 'builtin' | 'remote';
  onRegister?: (w: WorkerRecord) => Promise<void>;
  onUnregister?: (id: string) => Promise<void>;
  onError?: (err: unknown) => void;
}

export class WorkerPool {
  readonly bootId = randomHex(8);
  private readonly wake = new WakeSignal();
  private readonly running = new Map<number, JobRunner>();
  private stopped = false;
  private loops: Promise<void>[] = [];
  private offWork?: () => void;
  private readonly startedAt: number;

  constructor(private readonly source: WorkSource, private readonly clock: Clock, private readonly o: PoolOptions, private readonly feed?: StatusFeed) {
    this.startedAt = clock.now();
  }

  /** Worker-id prefix of this node, and of this boot: everything with the first but not the second is dead. */
  get deadPrefixes(): { prefix: string; except: string } {
    return { prefix: `${this.o.kind}:${this.o.node}:`, except: `${this.o.kind}:${this.o.node}:${this.bootId}:` };
  }

  workerId(slot: number): string {
    return `${this.o.kind}:${this.o.node}:${this.bootId}:${slot}`;
  }

  get activeJobs(): number {
    return this.running.size;
  }

  private registry?: NodeJS.Timeout;

  start(): void {
    this.stopped = false;
    this.loops = [];
    this.offWork = this.feed?.onWork(() => this.wake.notify());
    const registerAll = (): void => {
      for (let slot = 0; slot < this.o.concurrency; slot++) void this.register(slot).catch(this.o.onError);
    };
    registerAll();
    this.registry = setInterval(registerAll, this.o.heartbeatMs);
    this.registry.unref();
    for (let slot = 0; slot < this.o.concurrency; slot++) this.loops.push(this.loop(slot));
  }

  private async loop(slot: number): Promise<void> {
    const id = this.workerId(slot);
    while (!this.stopped) {
      let work = null;
      try {
        work = await this.source.claim(id);
      } catch (err) {
        this.o.onError?.(err);
      }
      if (!work) {
        await this.wake.wait(SAFETY_POLL_MS);
        continue;
      }
      const runner = new JobRunner(this.source, work, this.o, this.feed);
      this.running.set(slot, runner);
      await this.register(slot).catch(this.o.onError);
      try {
        await runner.run();
      } catch (err) {
        this.o.onError?.(err);
      } finally {
        this.running.delete(slot);
        await this.register(slot).catch(this.o.onError);
      }
      this.wake.notify(); // another slot may have slept through a wake-up while we were busy
    }
  }

  private async register(slot: number): Promise<void> {
    if (this.stopped) return;
    await this.o.onRegister?.({
      id: this.workerId(slot), node: this.o.node, kind: this.o.kind, concurrency: 1, active_jobs: this.running.has(slot) ? 1 : 0,
      last_seen_at: this.clock.now(), started_at: this.startedAt,
    });
  }

  /** Stops claiming; running trainers are killed (their attempts recover on the next boot or by lease). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.registry);
    this.offWork?.();
    for (let i = 0; i < this.o.concurrency; i++) this.wake.notify();
    for (const r of this.running.values()) r.abandon();
    await Promise.allSettled(this.loops);
    for (let slot = 0; slot < this.o.concurrency; slot++) await this.o.onUnregister?.(this.workerId(slot)).catch(() => undefined);
  }
}
