/**
 * WorkSource over HTTP (the worker API, docs/scaling.md), so a remote `ftnode worker` runs the same
 * WorkerPool and JobRunner as the in-process worker. Claims long-poll; claimed datasets and the resume
 * checkpoint are downloaded into the local cache (sha256-verified) while the lease is kept alive by
 * heartbeats; checkpoints and outputs are uploaded as multipart streams.
 * Invariants: every write carries the fence; a write that cannot reach the control plane is retried
 * (the control plane may be restarting, or be another replica) only while the attempt's LOCAL lease
 * deadline — last acknowledged heartbeat send time + leaseMs, never later than the server's — has not
 * passed; after it the write counts as refused and the heartbeat reports the lease lost, so the
 * runner kills the trainer: a worker cut off from the control plane stops on its own.
 * The fenced calls are built from the protocol table (api/worker-protocol.ts): one generated method
 * per row, except heartbeat, written out below because it keeps the local lease deadline.
 */
import { mkdir, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { FENCED, FENCED_NAMES, workerPath, ROUTES, type FencedMethods } from '../api/worker-protocol.js';
import { isTerminal, type JobStatus } from '../domain/status.js';
import type { Checkpoint, Job, WorkerRecord } from '../domain/types.js';
import type { CheckpointReport, ClaimedWork, Fence, OutputReport, RemoteWork, WorkerInfo } from '../domain/work.js';
import { randomHex } from '../lib/ids.js';
import type { RemoteCache } from './remote-cache.js';
import { isTransient, RemoteHttpError, WorkerAuthError, type WorkerHttp } from './remote-http.js';
import type { WorkSource } from './work-source.js';

export interface RemoteSourceOptions {
  cache: RemoteCache;
  info: WorkerInfo;
  /** Scratch folders of running attempts (`<dir>/<job uuid>/attempt-<n>`). */
  workDir: string;
  log?: Logger;
  /** The token was refused on a background call (registration): the process should stop. */
  onFatal?: (err: Error) => void;
}

/** The fenced writes are defined in the constructor, one per row of the protocol table. */
export interface RemoteWorkSource extends FencedMethods {}

export class RemoteWorkSource implements WorkSource {
  readonly leaseMs: number;
  private readonly leases = new Map<string, number>(); // attempt id → local lease deadline (performance.now)
  private readonly claims = new AbortController();
  private readonly registrations = new Map<string, WorkerRecord>();
  private registering: Promise<void> | null = null;
  /** Cached files each attempt uses, by its scratch folder: released once the runner removed the folder (the attempt ended). */
  private readonly held = new Map<string, { release: () => void; started: boolean }>();

  constructor(private readonly http: WorkerHttp, private readonly o: RemoteSourceOptions) {
    this.leaseMs = o.info.lease_ms;
    for (const name of FENCED_NAMES) {
      if (name in this) continue; // written out below
      const op = FENCED[name] as (typeof FENCED)[typeof name] & { body: (...a: unknown[]) => Record<string, unknown> };
      const path = workerPath(name);
      const method = async (fence: Fence, ...rest: unknown[]): Promise<unknown> => {
        const args = op.job === null ? rest : rest.slice(1); // the job (or its uuid) is the server's to find from the attempt
        const result = await this.write(fence, path, op.body(...args), op.refused as unknown, (r: Record<string, unknown>) => r[op.reply]);
        if ('ends' in op) this.settled(fence, name, result as Job | null);
        return result;
      };
      Object.defineProperty(this, name, { value: method });
    }
  }

  private deadline(attempt_id: string): number {
    return this.leases.get(attempt_id) ?? 0;
  }

  /** Long-polls until work comes (or close()); a claim whose downloads fail is abandoned (its lease expires). */
  async claim(worker_id: string): Promise<ClaimedWork | null> {
    const wait = this.o.info.claim_wait_ms;
    while (!this.claims.signal.aborted) {
      let work: RemoteWork | null;
      try {
        work = (await this.http.json<{ work: RemoteWork | null }>(workerPath('claim'), { worker_id, wait_ms: wait }, { signal: this.claims.signal, timeoutMs: wait + 15_000 })).work;
      } catch (err) {
        if (this.claims.signal.aborted) return null;
        throw err;
      }
      if (!work) continue;
      const local = await this.localize(work);
      if (local) return local;
    }
    return null;
  }

  private async localize(w: RemoteWork): Promise<ClaimedWork | null> {
    const { fence } = w;
    const log = this.o.log?.child({ job_id: w.job.id, job_uuid: w.job.uuid, attempt_id: fence.attempt_id, attempt: w.attempt_number });
    this.leases.set(fence.attempt_id, performance.now() + this.leaseMs);
    log?.info({ model: w.job.model, resume: w.resume?.checkpoint_id ?? null }, 'claimed');
    const stop = new AbortController();
    // Large datasets take longer than a lease to download: keep it alive, and stop if the job went away.
    const beat = setInterval(() => {
      void this.heartbeat(fence).then((st) => (st === null || isTerminal(st)) && stop.abort(), () => undefined);
    }, this.o.info.heartbeat_ms);
    const dir = this.dirOf(w.job, w.attempt_number);
    try {
      await this.releaseEnded();
      await this.o.cache.evict();
      const get = (ref: RemoteWork['datasets'][number]['files'][number]['ref']): Promise<string> =>
        this.o.cache.get(this.http, ref, fence.lease_token, () => this.deadline(fence.attempt_id), AbortSignal.any([stop.signal, this.claims.signal]));
      const shas = [...w.datasets.flatMap((d) => d.files.map((f) => f.ref.sha256)), ...(w.resume ? [w.resume.ref.sha256] : []), ...(w.resources?.checkpoint ? [w.resources.checkpoint.sha256] : [])];
      this.held.set(dir, { release: this.o.cache.hold(shas), started: false });
      const datasets = [];
      for (const ds of w.datasets) {
        const files = [];
        for (const f of ds.files) files.push({ file_id: f.file_id, path: await get(f.ref), ...(f.label !== undefined ? { label: f.label } : {}) });
        datasets.push({ name: ds.name, split: ds.split, files });
      }
      const resume = w.resume ? { checkpoint_id: w.resume.checkpoint_id, step: w.resume.step, path: await get(w.resume.ref) } : null;
      const out: ClaimedWork = { job: w.job, fence, attempt_number: w.attempt_number, entry: w.entry, datasets, resume };
      if (w.resources) {
        const c = w.resources.checkpoint;
        out.resources = { ...(w.resources.committed_outputs ? { committed_outputs: w.resources.committed_outputs } : {}), ...(c ? { checkpoint: { checkpoint_id: c.checkpoint_id, sha256: c.sha256, path: await get(c.ref) } } : {}) };
      }
      return out;
    } catch (err) {
      log?.warn({ err }, 'download for the claimed attempt failed; abandoned (its lease expires and the job is retried)');
      this.leases.delete(fence.attempt_id);
      this.held.get(dir)?.release();
      this.held.delete(dir);
      return null;
    } finally {
      clearInterval(beat);
    }
  }

  /** One try per beat: an unreachable control plane is "keep going" until the local lease deadline, then "lost". */
  async heartbeat(fence: Fence): Promise<JobStatus | null> {
    const a = fence.attempt_id;
    const sent = performance.now();
    try {
      const r = await this.http.json<{ status: JobStatus | null }>(workerPath('heartbeat'), { fence }, { until: () => 0, timeoutMs: this.o.info.heartbeat_ms });
      if ((r as Record<string, unknown>)[FENCED.heartbeat.reply] === null) {
        this.leases.delete(a);
        this.o.log?.warn({ attempt_id: a }, 'lease lost');
        return null;
      }
      this.leases.set(a, Math.max(this.deadline(a), sent + this.leaseMs));
      return r.status;
    } catch (err) {
      if (err instanceof WorkerAuthError || performance.now() >= this.deadline(a)) {
        this.leases.delete(a);
        this.o.log?.warn({ attempt_id: a, err }, 'lease lost: control plane unreachable past the lease');
        return null;
      }
      throw err;
    }
  }

  private dirOf(job: Job, attempt_number: number): string {
    return join(this.o.workDir, job.uuid, `attempt-${attempt_number}`);
  }

  async scratchDir(job: Job, attempt_number: number): Promise<string> {
    const dir = this.dirOf(job, attempt_number);
    await mkdir(dir, { recursive: true });
    const h = this.held.get(dir);
    if (h) h.started = true;
    return dir;
  }

  private async releaseEnded(): Promise<void> {
    for (const [dir, h] of this.held) {
      if (h.started && !(await stat(dir).catch(() => null))) {
        h.release();
        this.held.delete(dir);
      }
    }
  }

  /** A fenced JSON call; unreachable past the lease deadline (or token revoked) → `refused`. */
  private async write<R, T>(fence: Fence, path: string, payload: Record<string, unknown>, refused: T, pick: (r: R) => T): Promise<T> {
    try {
      return pick(await this.http.json<R>(path, { fence, ...payload }, { until: () => this.deadline(fence.attempt_id), timeoutMs: 30_000 }));
    } catch (err) {
      if (!isTransient(err) && !(err instanceof WorkerAuthError)) throw err;
      this.o.log?.warn({ attempt_id: fence.attempt_id, path, err }, 'write not delivered before the lease deadline; counted as refused');
      return refused;
    }
  }

  private settled(fence: Fence, what: string, job: Job | null): void {
    this.leases.delete(fence.attempt_id);
    const log = this.o.log?.child({ attempt_id: fence.attempt_id, ...(job ? { job_id: job.id, job_uuid: job.uuid } : {}) });
    if (job) log?.info({ status: job.status }, `${what}: accepted`);
    else log?.warn(`${what}: refused (the lease was lost)`);
  }

  async commitCheckpoint(fence: Fence, _job: Job, r: CheckpointReport): Promise<Checkpoint | null> {
    const report = { step: r.step, name: r.name, size: r.size, sha256: r.sha256, metrics: r.metrics, meta: r.meta };
    const res = await this.upload(fence, 'commitCheckpoint', report, r.path);
    const c = (res?.[ROUTES.commitCheckpoint.reply] ?? null) as Checkpoint | null;
    if (!c) this.o.log?.warn({ attempt_id: fence.attempt_id, step: r.step }, 'checkpoint refused (the lease was lost)');
    return c;
  }

  async commitOutput(fence: Fence, _job: Job, r: OutputReport): Promise<boolean> {
    const res = await this.upload(fence, 'commitOutput', { filename: r.filename, size: r.size, sha256: r.sha256, input_file_id: r.input_file_id }, r.path);
    return res?.[ROUTES.commitOutput.reply] === true;
  }

  /** Multipart `report` + `file`, streamed from disk (a fresh body per try); null = not delivered before the lease deadline. */
  private async upload(fence: Fence, op: 'commitCheckpoint' | 'commitOutput', report: Record<string, unknown>, path: string): Promise<Record<string, unknown> | null> {
    const boundary = `ftnode-${randomHex(24)}`;
    try {
      const r = await this.http.upload(workerPath(op, { attempt_id: fence.attempt_id }), {
        'x-ftnode-lease-token': String(fence.lease_token), 'content-type': `multipart/form-data; boundary=${boundary}`,
      }, () => multipart(boundary, JSON.stringify(report), path), () => this.deadline(fence.attempt_id));
      if (r.status < 200 || r.status > 299) throw new RemoteHttpError(r.status, r.text);
      return JSON.parse(r.text) as Record<string, unknown>;
    } catch (err) {
      if (!isTransient(err) && !(err instanceof WorkerAuthError)) throw err;
      return null;
    }
  }

  /**
   * Fleet registration (GET /v0.5/fine-tune/status counts remote workers too). The pool registers a
   * slot when a job starts and ends; waiting for that round trip would delay every job, so it is sent
   * in the background, the latest record per slot only.
   */
  async register(w: WorkerRecord): Promise<void> {
    this.registrations.set(w.id, w);
    this.registering ??= this.flushRegistrations().finally(() => (this.registering = null));
  }

  private async flushRegistrations(): Promise<void> {
    for (let next = this.registrations.entries().next(); !next.done; next = this.registrations.entries().next()) {
      const [id, w] = next.value;
      this.registrations.delete(id);
      const until = performance.now() + this.o.info.heartbeat_ms; // the next registration comes one heartbeat later anyway
      await this.http.json(workerPath('register'), { worker: w }, { until: () => until, timeoutMs: 10_000 }).catch((err: unknown) => {
        if (err instanceof WorkerAuthError) this.o.onFatal?.(err);
        else this.o.log?.warn({ err, worker_id: id }, 'registration not delivered');
      });
    }
  }

  async unregister(id: string): Promise<void> {
    const until = performance.now() + 2_000;
    await this.http.json(workerPath('unregister', { worker_id: id }), undefined, { method: 'DELETE', until: () => until, timeoutMs: 5_000 });
  }

  /** Claims in flight return null at once (shutdown); writes of running attempts go on. */
  close(): void {
    this.claims.abort();
  }
}

/**
 * A multipart/form-data body (`report` field, then `file`) read from disk as it is sent: undici's
 * FormData holds a file Blob in memory whole (a 400 MB upload took 474 MB of RSS), a checkpoint may be
 * many GB.
 */
function multipart(boundary: string, report: string, path: string): Readable {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="report"\r\n\r\n${report}\r\n`
    + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  async function* parts(): AsyncGenerator<Buffer> {
    yield Buffer.from(head);
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return Readable.from(parts(), { objectMode: false });
}
