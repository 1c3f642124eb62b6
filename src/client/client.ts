/**
 * FtClient: a small fetch-based client for every ftnode route (v0.5 jobs and files, direct uploads,
 * v0.6 fine_tuning jobs, status, models). URLs come only from routes.ts; every non-2xx answer throws an
 * ApiError with the server's errors[]; a failure to connect throws ApiError `connection_failed`.
 * It uses nothing but fetch, so the same code runs in Node (CLI, tests) and in the browser (dashboard).
 */
import { ApiError } from './errors.js';
import { fillPath, pathShape, ROUTES, type Route, type RouteName } from './routes.js';
import { followJob, type FollowOptions, type JobStreamMessage } from './sse.js';
import type * as T from './types.js';

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8642; a trailing /v0.5 or /v0.6 (as ATAI_API_ENDPOINT may carry) is removed. */
  endpoint: string;
  apiKey?: string | null;
  fetch?: typeof fetch;
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface CallOptions {
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Removes trailing slashes and an API version suffix: `https://h/v0.5/` → `https://h`. */
export function normalizeEndpoint(endpoint: string): string {
  return endpoint.trim().replace(/\/+$/, '').replace(/\/v0\.[0-9]+$/, '').replace(/\/+$/, '');
}

export class FtClient {
  readonly endpoint: string;
  readonly apiKey: string | null;
  private readonly doFetch: typeof fetch;
  private openapiPaths: Promise<Record<string, Record<string, unknown>>> | null = null;

  constructor(o: ClientOptions) {
    this.endpoint = normalizeEndpoint(o.endpoint);
    this.apiKey = o.apiKey ?? null;
    this.doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  }

  url(route: Route, params?: Record<string, string>, query?: Query): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
    }
    const s = qs.toString();
    return `${this.endpoint}${fillPath(route.path, params)}${s ? `?${s}` : ''}`;
  }

  authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  /** One call; resolves with the Response when it is 2xx, else throws ApiError. */
  async send(name: RouteName, o: CallOptions = {}): Promise<Response> {
    const route: Route = ROUTES[name];
    const url = this.url(route, o.params, o.query);
    const headers: Record<string, string> = { ...this.authHeaders(), ...o.headers };
    let body: RequestInit['body'];
    if (o.body !== undefined) {
      if (typeof FormData !== 'undefined' && o.body instanceof FormData) body = o.body;
      else {
        body = JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
      }
    }
    return this.fetchOk(url, { method: route.method, headers, body, signal: o.signal });
  }

  async fetchOk(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.doFetch(url, init);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw ApiError.connection(this.endpoint, err);
    }
    if (!res.ok) throw await ApiError.fromResponse(res);
    return res;
  }

  async json<R>(name: RouteName, o: CallOptions = {}): Promise<R> {
    const res = await this.send(name, o);
    return (await res.json()) as R;
  }

  // ── service ──
  status(): Promise<T.FleetStatus> {
    return this.json('status');
  }
  models(): Promise<T.DataList<T.Model>> {
    return this.json('models');
  }

  /** The OpenAPI paths the server serves (fetched once). */
  async openapi(): Promise<Record<string, Record<string, unknown>>> {
    this.openapiPaths ??= this.fetchOk(`${this.endpoint}/openapi.json`, { headers: this.authHeaders() })
      .then(async (r) => ((await r.json()) as { paths?: Record<string, Record<string, unknown>> }).paths ?? {})
      .catch((err: unknown) => {
        this.openapiPaths = null;
        throw err;
      });
    return this.openapiPaths;
  }

  /** Whether this server answers a route (optional features such as direct uploads). */
  async supports(name: RouteName): Promise<boolean> {
    const r: Route = ROUTES[name];
    const paths = await this.openapi();
    const shape = pathShape(r.path);
    return Object.entries(paths).some(([p, ops]) => pathShape(p) === shape && Boolean(ops[r.method.toLowerCase()]));
  }

  // ── v0.5 jobs ──
  createJob(body: T.CreateJobV05, o: { idempotencyKey?: string } = {}): Promise<T.Job> {
    return this.json('createJob', { body, headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} });
  }
  listJobs(q: { statuses?: readonly string[]; limit?: number; offset?: number } = {}): Promise<T.Job[]> {
    return this.json('listJobs', { query: q });
  }
  getJob(id: string): Promise<T.Job> {
    return this.json('getJob', { params: { job_id: id } });
  }
  deleteJob(id: string): Promise<T.DeleteJobResult> {
    return this.json('deleteJob', { params: { job_id: id } });
  }
  stopJob(id: string): Promise<T.Job> {
    return this.json('stopJob', { params: { job_id: id } });
  }
  cancelJob(id: string): Promise<T.Job> {
    return this.json('cancelJob', { params: { job_id: id } });
  }
  metrics(id: string, q: { limit?: number; offset?: number } = {}): Promise<T.MetricsPage> {
    return this.json('jobMetrics', { params: { job_id: id }, query: q });
  }
  events(id: string, q: { limit?: number; order?: 'asc' | 'desc' } = {}): Promise<T.DataList<T.JobEvent>> {
    return this.json('jobEvents', { params: { job_id: id }, query: q });
  }
  checkpoints(id: string): Promise<T.DataList<T.Checkpoint>> {
    return this.json('jobCheckpoints', { params: { job_id: id } });
  }
  /** The raw response: stream `body`; `x-checksum-sha256` carries the expected digest. */
  downloadCheckpoint(id: string, ckpId: string, signal?: AbortSignal): Promise<Response> {
    return this.send('downloadCheckpoint', { params: { job_id: id, ckp_id: ckpId }, signal });
  }
  async inferenceConfig(id: string): Promise<string> {
    return (await this.send('inferenceConfig', { params: { job_id: id } })).text();
  }
  predict(id: string, body: T.PredictBody): Promise<T.PredictResult> {
    return this.json('predict', { params: { job_id: id }, body });
  }
  /** Live status and events of a job (server-sent events), reconnecting until it is terminal. */
  follow(id: string, o: FollowOptions = {}): AsyncGenerator<JobStreamMessage> {
    return followJob(this, id, o);
  }

  // ── v0.6 fine_tuning jobs ──
  createJobV06(body: T.CreateJobV06, o: { idempotencyKey?: string } = {}): Promise<T.JobV06> {
    return this.json('createJobV06', { body, headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} });
  }
  listJobsV06(q: { limit?: number; after?: string } = {}): Promise<T.ListV06<T.JobV06>> {
    return this.json('listJobsV06', { query: q });
  }
  getJobV06(id: string): Promise<T.JobV06> {
    return this.json('getJobV06', { params: { job_id: id } });
  }
  cancelJobV06(id: string): Promise<T.JobV06> {
    return this.json('cancelJobV06', { params: { job_id: id } });
  }
  stopJobV06(id: string): Promise<T.JobV06> {
    return this.json('stopJobV06', { params: { job_id: id } });
  }
  eventsV06(id: string, q: { limit?: number } = {}): Promise<T.ListV06<T.EventV06>> {
    return this.json('jobEventsV06', { params: { job_id: id }, query: q });
  }
  checkpointsV06(id: string): Promise<T.ListV06<T.CheckpointV06>> {
    return this.json('jobCheckpointsV06', { params: { job_id: id } });
  }

  // ── v0.5 batch jobs (docs/batch.md) ──
  createBatchJob(body: Record<string, unknown>): Promise<T.BatchJob> {
    return this.json('createBatchJob', { body });
  }
  listBatchJobs(q: { offset?: number; limit?: number; statuses?: readonly string[] } = {}): Promise<T.BatchPage & { jobs: T.BatchJob[] }> {
    return this.json('listBatchJobs', { query: q });
  }
  getBatchJob(id: string): Promise<T.BatchJob> {
    return this.json('getBatchJob', { params: { job_id: id } });
  }
  cancelBatchJob(id: string): Promise<T.BatchJob> {
    return this.json('cancelBatchJob', { params: { job_id: id } });
  }
  batchEvents(id: string, q: { offset?: number; limit?: number } = {}): Promise<T.BatchPage & { events: T.BatchEvent[] }> {
    return this.json('batchEvents', { params: { job_id: id }, query: q });
  }
  async batchOutputs(id: string, q: { offset?: number; limit?: number } = {}): Promise<T.BatchPage & { outputs: T.BatchOutput[] }> {
    const page = await this.json<T.BatchPage & { outputs: Array<{ data: T.BatchOutput }> }>('batchOutputs', { params: { job_id: id }, query: q });
    return { ...page, outputs: page.outputs.map((o) => o.data) };
  }
  /**
   * GET an output's `ref` (docs/batch.md "Output refs"): a relative ref is appended to the version
   * root (`{endpoint}/v0.5{ref}`) and sent with the key; an absolute (presigned) URL is fetched as it
   * is, without the key — the signature is its credential and the key must not travel to another host.
   */
  fetchOutputRef(ref: string, signal?: AbortSignal): Promise<Response> {
    if (/^https?:\/\//i.test(ref)) return this.fetchOk(ref, { signal });
    return this.fetchOk(`${this.endpoint}/v0.5${ref.startsWith('/') ? '' : '/'}${ref}`, { headers: this.authHeaders(), signal });
  }

  // ── v0.5 files ──
  /** Simple upload (multipart, field `file`). Node and browsers both have FormData and Blob. */
  uploadFile(content: Blob, name: string): Promise<T.FileRef> {
    const form = new FormData();
    form.append('file', content, name);
    return this.json('uploadFile', { body: form });
  }
  /** POST /v0.5/files/base64: `content` is base64 text; `name` is the real file name. */
  uploadFileBase64(content: Blob, name: string): Promise<T.FileRef> {
    const form = new FormData();
    form.append('file', content, name);
    return this.json('uploadFileBase64', { body: form });
  }
  fileMetadata(id: string): Promise<T.FileMetadata> {
    return this.json('fileMetadata', { params: { file_id: id } });
  }
  listFiles(q: { shard_index?: number; max_items_per_shard?: number } = {}): Promise<T.FileMetadata[]> {
    return this.json('listFiles', { query: q });
  }
  filesInfo(): Promise<T.FilesInfo> {
    return this.json('filesInfo');
  }
  downloadFile(id: string, signal?: AbortSignal): Promise<Response> {
    return this.send('downloadFile', { params: { file_id: id }, signal });
  }
  deleteFile(id: string): Promise<T.FileRef> {
    return this.json('deleteFile', { params: { file_id: id } });
  }

  // ── direct (multipart) uploads ──
  initiateUpload(body: T.InitiateUploadBody): Promise<T.InitiatedUpload> {
    return this.json('initiateUpload', { body });
  }
  partUrls(uploadId: string, partNumbers: number[]): Promise<{ parts: T.UploadPart[] }> {
    return this.json('uploadPartUrls', { params: { upload_id: uploadId }, body: { part_numbers: partNumbers } });
  }
  checkpointUpload(uploadId: string, parts: T.PartToken[]): Promise<{ num_checkpointed: number }> {
    return this.json('checkpointUpload', { params: { upload_id: uploadId }, body: { parts } });
  }
  completeUpload(uploadId: string, parts: T.PartToken[], integrityChecksum?: string): Promise<T.CompletedUpload> {
    const body = integrityChecksum ? { parts, integrity_checksum: integrityChecksum } : { parts };
    return this.json('completeUpload', { params: { upload_id: uploadId }, body });
  }
  abortUpload(uploadId: string): Promise<unknown> {
    return this.json('abortUpload', { params: { upload_id: uploadId } });
  }
  /**
   * PUT one part to its signed URL (no bearer key: the URL carries its own signature); returns the
   * ETag. `body` must be the part's `length` bytes: the length is declared (a streamed body would
   * otherwise go chunked), as S3's UploadPart requires, and a server can then write it in place as
   * it arrives instead of holding it until its end.
   */
  async putPart(part: T.UploadPart, body: NonNullable<RequestInit['body']>, signal?: AbortSignal): Promise<string> {
    const url = /^https?:\/\//.test(part.url) ? part.url : `${this.endpoint}${part.url.startsWith('/') ? '' : '/'}${part.url}`;
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(part.length) };
    const res = await this.fetchOk(url, { method: 'PUT', body, signal, headers, duplex: 'half' } as RequestInit);
    await res.arrayBuffer().catch(() => undefined);
    const etag = res.headers.get('etag');
    if (!etag) throw ApiError.local('missing_etag', `the part URL for part ${part.part_number} answered without an ETag`);
    return etag;
  }
}
