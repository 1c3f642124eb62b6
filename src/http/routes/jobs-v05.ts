/**
 * /v0.5/fine-tune/jobs: create, list, get, stop, cancel, delete, metrics, events (JSON or live SSE),
 * checkpoints (+ download), inference config and predict (extensions: docs/spec.md#extensions-and-v06).
 */
import type { FastifyInstance } from 'fastify';
import { draftV05 } from '../../api/drafts-v05.js';
import { checkpointDto, eventDto, jobDto } from '../../api/dto.js';
import { parseAfter, parseLimitOffset, parseStatuses, throwIfAny } from '../../api/query.js';
import { CreateJobV05, ErrorEnvelopeSchema, JobIdParams, JobRecord, ListQuery, PredictBody } from '../../api/schemas.js';
import { FtError, type ErrorDetail } from '../../domain/errors.js';
import { JobJsonCache } from '../job-json-cache.js';
import type { HttpDeps } from '../deps.js';
import { streamEvents, streamOrgJobs } from './sse.js';

const BASE = '/v0.5/fine-tune/jobs';
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
const tags = ['fine-tune v0.5'];

type IdParams = { job_id: string };

/**
 * The job DTO already has exactly the documented keys, so the list and get routes serialise with
 * JSON.stringify: fast-json-stringify checks each value against the schema's anyOf branches (up to
 * 10 status literals), 288 vs 164 µs per 100 records (docs/benchmarks-core.md). The response schemas
 * stay for the OpenAPI document.
 */
const plainJson = () => (data: unknown) => JSON.stringify(data);

export function registerJobsV05(app: FastifyInstance, deps: HttpDeps): void {
  const rendered = new JobJsonCache(); // list pages: records rendered once per row_version
  const { jobs, creator } = deps;

  app.post<{ Body: CreateJobV05 }>(BASE, { schema: { tags, body: CreateJobV05, response: { 200: JobRecord, 201: JobRecord, ...errors } } }, async (req, reply) => {
    const { job, created } = await creator.create(draftV05(req.principal.org.uuid, req.body, req.headers['idempotency-key']));
    return reply.code(created ? 201 : 200).send(jobDto(job));
  });

  app.get<{ Querystring: Record<string, unknown> }>(BASE, { schema: { tags, querystring: ListQuery, response: { 200: { type: 'array', items: JobRecord }, ...errors } }, serializerCompiler: plainJson }, async (req, reply) => {
    if (String(req.headers.accept ?? '').includes('text/event-stream')) return streamOrgJobs(req, reply, jobs, req.principal.org.uuid);
    const problems: ErrorDetail[] = [];
    const { limit, offset } = parseLimitOffset(req.query, problems);
    const statuses = parseStatuses(req.query.statuses, problems);
    const after = parseAfter(req.query.after, problems);
    throwIfAny(problems);
    const org = req.principal.org.uuid;
    const keys = await jobs.listViewKeys(org, { statuses, limit, offset, after });
    return reply.type('application/json; charset=utf-8').send(await rendered.page(keys, (uuids) => jobs.getViews(org, uuids)));
  });

  const one = { tags, params: JobIdParams, response: { 200: JobRecord, ...errors } };
  app.get<{ Params: IdParams }>(`${BASE}/:job_id`, { schema: one, serializerCompiler: plainJson }, async (req) => jobDto(await jobs.get(req.principal.org.uuid, req.params.job_id)));
  app.put<{ Params: IdParams }>(`${BASE}/:job_id/stop`, { schema: one }, async (req) => jobDto(await jobs.stop(req.principal.org.uuid, req.params.job_id)));
  app.put<{ Params: IdParams }>(`${BASE}/:job_id/cancel`, { schema: one }, async (req) => jobDto(await jobs.cancel(req.principal.org.uuid, req.params.job_id)));
  app.delete<{ Params: IdParams }>(`${BASE}/:job_id`, { schema: { tags, params: JobIdParams } }, async (req) => {
    const job = await jobs.delete(req.principal.org.uuid, req.params.job_id);
    return { is_valid: true, id: job.id, uuid: job.uuid };
  });

  app.get<{ Params: IdParams; Querystring: Record<string, unknown> }>(`${BASE}/:job_id/metrics`, { schema: { tags, params: JobIdParams, querystring: ListQuery } }, async (req) => {
    const problems: ErrorDetail[] = [];
    const { limit, offset } = parseLimitOffset(req.query, problems);
    throwIfAny(problems);
    return jobs.metrics(req.principal.org.uuid, req.params.job_id, limit, offset);
  });

  app.get<{ Params: IdParams; Querystring: Record<string, unknown> }>(`${BASE}/:job_id/events`, { schema: { tags, params: JobIdParams, querystring: ListQuery } }, async (req, reply) => {
    if (String(req.headers.accept ?? '').includes('text/event-stream')) {
      const job = await jobs.get(req.principal.org.uuid, req.params.job_id);
      return streamEvents(req, reply, jobs, job);
    }
    const problems: ErrorDetail[] = [];
    const { limit } = parseLimitOffset(req.query, problems, 100);
    throwIfAny(problems);
    const order = req.query.order === 'asc' ? false : true;
    return { data: (await jobs.events(req.principal.org.uuid, req.params.job_id, { limit, newestFirst: order })).map(eventDto) };
  });

  app.get<{ Params: IdParams }>(`${BASE}/:job_id/checkpoints`, { schema: { tags, params: JobIdParams } }, async (req) => ({
    data: (await jobs.checkpoints(req.principal.org.uuid, req.params.job_id)).map(checkpointDto),
  }));

  app.get<{ Params: IdParams & { ckp_id: string } }>(`${BASE}/:job_id/checkpoints/:ckp_id/download`, { schema: { tags } }, async (req, reply) => {
    const { checkpoint } = await jobs.checkpoint(req.principal.org.uuid, req.params.job_id, req.params.ckp_id);
    const to = await deps.downloadRedirect?.(checkpoint.blob_key, `${checkpoint.id}.ckpt`);
    if (to) return reply.header('x-checksum-sha256', checkpoint.sha256).redirect(to, 302);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', checkpoint.num_bytes)
      .header('content-disposition', `attachment; filename="${checkpoint.id}.ckpt"`)
      .header('x-checksum-sha256', checkpoint.sha256)
      .send(jobs.openCheckpoint(checkpoint));
  });

  app.get<{ Params: IdParams }>(`${BASE}/:job_id/inference-config`, { schema: { tags, params: JobIdParams } }, async (req, reply) => {
    const { stream } = await jobs.inferenceConfig(req.principal.org.uuid, req.params.job_id);
    return reply.header('content-type', 'application/yaml; charset=utf-8').send(stream);
  });

  app.post<{ Params: IdParams; Body: PredictBody }>(`${BASE}/:job_id/predict`, { schema: { tags, params: JobIdParams, body: PredictBody } }, async (req) => {
    const b = req.body ?? {};
    if (!b.examples && !b.file_ids && !b.rows) throw new FtError('missing_parameter', 'send examples (text models), or file_ids or rows (time-series models)');
    const r = await jobs.predict(req.principal.org.uuid, req.params.job_id, b);
    return { job_id: r.job.id, checkpoint_id: r.checkpoint.id, step: r.checkpoint.step, stand_in: deps.catalog[r.job.model]?.stand_in ?? false, predictions: r.predictions };
  });
}
