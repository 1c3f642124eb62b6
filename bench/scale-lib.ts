/**
 * Shared setup of the scale-out benchmarks (bench/scale.ts): a control plane started in this process
 * (startApp, so status changes are timed on its bus, as bench/lifecycle-latency.ts does: nothing
 * polls) on SQLite or on a fresh PostgreSQL schema, remote `ftnode worker` child processes, and two
 * extra models: `tiny` (a /bin/sh trainer that says hello and done: a job costs the lifecycle's
 * writes and a ~1 ms spawn, so claims dominate) and the gated fixtures of the tests.
 */
import pg from 'pg';
import type { JobStatus } from '../src/domain/status.js';
import type { CatalogEntry } from '../src/domain/catalog.js';
import { randomHex } from '../src/lib/ids.js';
import { startTestApp, type FixturePlan, type TestApp } from '../test/helpers/harness.js';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process.js';

export const TINY: CatalogEntry = {
  trainer: 'external', kind: 'text',
  command: ['/bin/sh', '-c', `read spec; printf '%s\\n' '{"type":"hello","protocol":1,"trainer":"sh"}' '{"type":"done","reason":"completed","step":0}'`],
};

export interface Plane {
  t: TestApp;
  bus: BusTimes;
  workers: WorkerProcess[];
  token: string;
  close(): Promise<void>;
}

export interface PlaneOptions {
  pgUrl: string | null; // null: SQLite in a temp home
  builtinWorkers: number;
  plans?: Record<string, FixturePlan>;
  overrides?: Record<string, unknown>;
}

/** A control plane in this process, `data.jsonl` uploaded; remote workers are added with addWorkers. */
export async function startPlane(o: PlaneOptions): Promise<Plane> {
  const schema = o.pgUrl ? `bench_${randomHex(12)}` : null;
  const t = await startTestApp({
    plans: o.plans ?? {},
    overrides: { builtinWorkers: o.builtinWorkers, ...(o.pgUrl ? { databaseUrl: o.pgUrl, databaseSchema: schema! } : {}), ...o.overrides },
  });
  (t.app.config.catalog as Record<string, CatalogEntry>).tiny = TINY; // the catalog object is the app's own; claims read it per job
  await t.client.upload('data.jsonl', '{"x":1}\n');
  const token = (await t.app.workerTokens.create('bench')).token;
  const plane: Plane = {
    t, bus: new BusTimes(t), workers: [], token,
    async close() {
      await Promise.all(plane.workers.map((w) => w.kill()));
      await t.close();
      if (schema) {
        const admin = new pg.Client({ connectionString: o.pgUrl! });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
      }
    },
  };
  return plane;
}

export async function addWorkers(p: Plane, n: number): Promise<WorkerProcess[]> {
  const started = await Promise.all(Array.from({ length: n }, () => startWorkerProcess(p.t.app.url, p.token)));
  for (const w of started) p.workers.push(w);
  return started;
}

/** performance.now() of each (job, status) as the app's bus announced it; waiters resolve on it. */
export class BusTimes {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, Array<(t: number) => void>>();
  constructor(t: TestApp) {
    t.app.bus.on('job-changed', (j) => {
      const now = performance.now();
      const key = `${j.uuid}:${j.status}:${j.attempts}`;
      for (const k of [key, `${j.uuid}:${j.status}`]) {
        if (this.seen.has(k)) continue;
        this.seen.set(k, now);
        for (const w of this.waiters.get(k) ?? []) w(now);
        this.waiters.delete(k);
      }
    });
  }
  at(uuid: string, status: JobStatus, attempt?: number): number | undefined {
    return this.seen.get(attempt === undefined ? `${uuid}:${status}` : `${uuid}:${status}:${attempt}`);
  }
  /** When the job first had `status` (during attempt number `attempt`, if given). */
  when(uuid: string, status: JobStatus, attempt?: number, timeoutMs = 120_000): Promise<number> {
    const key = attempt === undefined ? `${uuid}:${status}` : `${uuid}:${status}:${attempt}`;
    const seen = this.seen.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${uuid} never reached ${status}`)), timeoutMs);
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), (t) => (clearTimeout(timer), resolve(t))]);
    });
  }
}

/** Polls `fn` every 2 ms until true (bench-side idleness checks; the measured paths never poll). */
export async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
