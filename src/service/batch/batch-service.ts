/**
 * The batch jobs API use-cases (docs/batch.md) over the shared job machinery: create (BatchCreator),
 * get/list/cancel/delete through JobsService with family 'batch' (so a fine-tune route never sees a
 * batch job and vice versa), events, progress entries and outputs.
 * Progress entries are the job's metrics rows that carry `input_index` (the batch-msc trainer's
 * per-window-batch and per-file reports): metrics writes are fenced, so no entry is recorded after a
 * cancel. Outputs are the `output_committed` events before the job's terminal event (batch-outputs.ts);
 * their refs, relative or presigned, come from batch-links.ts.
 */
import type { Readable } from 'node:stream';
import { PORTS, type BatchRequest } from '../../domain/drafts.js';
import { FtError } from '../../domain/errors.js';
import type { JobStatus } from '../../domain/status.js';
import type { Job, JobEvent } from '../../domain/types.js';
import type { ServiceCore } from '../deps.js';
import type { BatchCreator } from './batch-create.js';
import type { OutputLinks } from './batch-links.js';
import { listCommittedOutputs, type CommittedOutput } from './batch-outputs.js';
import type { JobsService } from '../jobs/jobs-service.js';

export interface ProgressEntry {
  id: number; // 1-based position: entries are only ever appended
  kind: 'window_batch' | 'input_completed';
  step: number; // windows classified in the whole job at that point
  message: string;
  metrics: Record<string, number>;
  payload: Record<string, unknown> | null;
  input_id: string | null;
  index: number; // the input's position in worker.inference
  created_at: number;
}

export interface Page<T> {
  total: number;
  items: T[];
}

function page<T>(all: T[], offset: number, limit: number): Page<T> {
  return { total: all.length, items: limit < 0 ? all.slice(offset) : all.slice(offset, offset + limit) };
}

export interface BatchDeps extends Pick<ServiceCore, 'store' | 'blobs' | 'catalog'> {
  jobs: JobsService;
  creator: BatchCreator;
  links: OutputLinks;
}

export class BatchService {
  private readonly store: BatchDeps['store'];
  private readonly blobs: BatchDeps['blobs'];
  private readonly jobs: JobsService;
  private readonly creator: BatchCreator;
  private readonly links: OutputLinks;
  /** The pipelines (catalog entries of kind 'batch') a draft is checked against (api/drafts-batch.ts). */
  readonly catalog: BatchDeps['catalog'];

  constructor(d: BatchDeps) {
    ({ store: this.store, blobs: this.blobs, jobs: this.jobs, creator: this.creator, links: this.links, catalog: this.catalog } = d);
  }

  /** `req`: the checked draft of `body` (api/drafts-batch.ts). */
  create(org_uuid: string, req: BatchRequest, body: unknown): Promise<Job> {
    return this.creator.create(org_uuid, req, body);
  }

  get(org_uuid: string, id: string): Promise<Job> {
    return this.jobs.get(org_uuid, id, 'batch');
  }

  /** `statuses` undefined: all; an empty list (only words that never occur): none. */
  async list(org_uuid: string, statuses: JobStatus[] | undefined, offset: number, limit: number): Promise<Page<Job>> {
    if (statuses && statuses.length === 0) return { total: 0, items: [] };
    return page(await this.jobs.list(org_uuid, { statuses, limit: -1, offset: 0, api_versions: ['batch'] }), offset, limit); // all: the page carries a total
  }

  cancel(org_uuid: string, id: string): Promise<Job> {
    return this.jobs.cancel(org_uuid, id, 'batch');
  }

  delete(org_uuid: string, id: string): Promise<Job> {
    return this.jobs.delete(org_uuid, id, 'batch');
  }

  /** Oldest first. */
  async events(org_uuid: string, id: string, offset: number, limit: number): Promise<Page<JobEvent>> {
    const job = await this.get(org_uuid, id);
    return page(await this.store.listEvents(job.uuid, { limit: -1 }), offset, limit);
  }

  async progress(org_uuid: string, id: string, offset: number, limit: number): Promise<{ job: Job } & Page<ProgressEntry>> {
    const job = await this.get(org_uuid, id);
    const inputs = job.datasets.find((d) => d.name === PORTS.inference)?.files ?? [];
    const filenames = new Map(((job.config.outputs ?? []) as Array<{ input_file_id: string; filename: string }>).map((o) => [o.input_file_id, o.filename]));
    const rows = (await this.store.listMetrics(job.uuid, -1, 0))
      .filter((r) => typeof r.values.input_index === 'number')
      .map((r, seq) => ({ r, seq }))
      .sort((a, b) => a.r.created_at - b.r.created_at || a.seq - b.seq); // a resumed attempt restarts its step count
    const entries = rows.map(({ r }, i): ProgressEntry => {
      const v = r.values;
      const index = v.input_index!;
      const input_id = inputs[index]?.file_id ?? null;
      const completed = v.input_completed === 1;
      return {
        id: i + 1, kind: completed ? 'input_completed' : 'window_batch', step: r.step,
        message: completed ? `${input_id}: all ${v.input_windows_total} windows classified` : `${input_id}: ${v.input_windows_done} of ${v.input_windows_total} windows classified`,
        metrics: v, payload: completed && input_id ? { filename: filenames.get(input_id) ?? null } : null, input_id, index, created_at: r.created_at,
      };
    });
    return { job, ...page(entries, offset, limit) };
  }

  async outputs(org_uuid: string, id: string, offset: number, limit: number): Promise<{ job: Job } & Page<CommittedOutput>> {
    const job = await this.get(org_uuid, id);
    return { job, ...page(await listCommittedOutputs(this.store, job.uuid), offset, limit) };
  }

  /**
   * Where a client fetches a listed output: on object storage a presigned GET of the object itself
   * (absolute, ~1 h, as Archetype's platform answers; the bytes never pass through a replica), else
   * relative to the version root or presigned by this server (batch-links.ts).
   */
  async outputRef(job: Job, output: CommittedOutput, requestBase: string): Promise<string> {
    const direct = this.links.objectStoreRefs ? await this.blobs.presignGet(output.blob_key, this.links.ttlMs, new Date(this.links.now())) : null;
    return direct ?? this.links.ref(job, output.filename, requestBase);
  }

  /** A listed output's bytes; anything else (never committed, committed after a cancel) is a 404. */
  async openOutput(org_uuid: string, id: string, filename: string): Promise<{ output: CommittedOutput; stream: Readable }> {
    return this.open(await this.get(org_uuid, id), filename);
  }

  /**
   * The same bytes through a presigned ref (no API key): the signature is checked first (403), so a
   * caller without one learns nothing about which jobs exist; then the job by its uuid, batch only.
   */
  async openSignedOutput(job_uuid: string, filename: string, q: { expires?: unknown; sig?: unknown }): Promise<{ output: CommittedOutput; stream: Readable }> {
    this.links.verify(job_uuid, filename, q);
    const job = await this.store.getJobByUuid(job_uuid);
    if (!job || job.api_version !== 'batch') throw new FtError('job_not_found', `job '${job_uuid}' not found (deleted?)`);
    return this.open(job, filename);
  }

  private async open(job: Job, filename: string): Promise<{ output: CommittedOutput; stream: Readable }> {
    const output = (await listCommittedOutputs(this.store, job.uuid)).find((o) => o.filename === filename);
    const stream = output ? await this.blobs.openRead(output.blob_key) : null;
    if (!output || !stream) throw new FtError('not_found', `job '${job.id}' has no output '${filename.slice(0, 100)}'`);
    return { output, stream };
  }
}
