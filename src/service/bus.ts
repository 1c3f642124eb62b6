/**
 * In-process notifications: a job changed status, a job got a new event, work was queued. The
 * in-process worker pool and the SSE route listen here, so wake-ups take microseconds instead of a
 * polling interval. A multi-replica deployment feeds the same bus from the database (LISTEN/NOTIFY).
 */
import { EventEmitter } from 'node:events';
import type { Job } from '../domain/types.js';

export interface BusEvents {
  /** The job's status (or record) changed. */
  'job-changed': [Job];
  /** Something was recorded for this job (events, metrics, checkpoints, progress). */
  'job-touched': [string];
  'work-queued': [];
}

export class Bus {
  private readonly ee = new EventEmitter();
  constructor() {
    this.ee.setMaxListeners(0); // one listener per SSE client and per running attempt
  }
  emit<K extends keyof BusEvents>(name: K, ...args: BusEvents[K]): void {
    this.ee.emit(name, ...args);
  }
  on<K extends keyof BusEvents>(name: K, fn: (...args: BusEvents[K]) => void): () => void {
    this.ee.on(name, fn as (...a: unknown[]) => void);
    return () => this.ee.off(name, fn as (...a: unknown[]) => void);
  }
}
