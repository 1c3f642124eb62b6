/**
 * /v0.5/batch/jobs (docs/spec.md#batch-jobs, docs/batch.md): create, list, get, cancel, delete, events,
 * progress, outputs and the output files themselves. Lists use the batch family's pagination
 * (`offset`, `limit`, default 100, -1 = all) and answer `{total, offset, limit, <items>}`.
 * The presigned output GET (`/v0.5/signed/batch/outputs/…`) takes no key (route option
 * `auth: 'signed'`, http/auth.ts): the service checks its signature.
 * Registered by the composition root (HttpDeps.extraRoutes).
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { draftBatch } from '../../api/drafts-batch.js';
import { BATCH_STATUS_WORDS, batchEventDto, batchJobDto, outputDto, progressEntryDto } from '../../api/dto-batch.js';
import { parseLimitOffset, throwIfAny } from '../../api/query.js';
import { ErrorEnvelopeSchema } from '../../api/schemas.js';
import type { ErrorDetail } from '../../domain/errors.js';
import type { JobStatus } from '../../domain/status.js';
import { SIGNED_OUTPUT_ROUTE } from '../../service/batch/batch-links.js';
import type { CommittedOutput } from '../../service/batch/batch-outputs.js';
import type { BatchService } from '../../service/batch/batch-service.js';

const BASE = '/v0.5/batch/jobs';
const tags = ['batch v0.5'];
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
const DEFAULT_LIMIT = 100;
type IdParams = { job_id: string };
type Query = Record<string, unknown>;
const idParams = { type: 'object', properties: { job_id: { type: 'string' } }, required: ['job_id'] } as const;

function pageQuery(q: Query, problems: ErrorDetail[] = []): { offset: number; limit: number } {
  const { limit, offset } = parseLimitOffset(q, problems, DEFAULT_LIMIT);
  throwIfAny(problems);
  return { offset, limit };
}

function batchStatuses(raw: unknown, problems: ErrorDetail[]): JobStatus[] | undefined {
  if (raw === undefined) return undefined;
  const words = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
  const bad = words.filter((w) => !(w in BATCH_STATUS_WORDS));
  if (bad.length > 0) problems.push({ code: 'invalid_parameter', message: `unknown status value(s): ${bad.join(', ')}; batch statuses are ${Object.keys(BATCH_STATUS_WORDS).join(', ')}` });
  return words.flatMap((w) => BATCH_STATUS_WORDS[w] ?? []);
}

/** Where the client reached us: presigned refs point back to it when no public URL is configured. */
function requestBase(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.host}`;
}

function sendOutput(reply: FastifyReply, { output, stream }: { output: CommittedOutput; stream: Readable }): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-length', output.num_bytes)
    .header('content-disposition', `attachment; filename="${output.filename}"`)
    .header('x-checksum-sha256', output.sha256)
    .send(stream);
}

export function registerBatchV05(app: FastifyInstance, batch: BatchService): void {
  const org = (req: { principal: { org: { uuid: string } } }): string => req.principal.org.uuid;

  app.post(BASE, { schema: { tags, body: { type: 'object', description: '{name, pipeline_type, pipeline_key, pipeline_version?, inputs: {port: [items]}, parameters: {worker: {parallelism, config}}}' }, response: { 201: { type: 'object', additionalProperties: true }, ...errors } } }, async (req, reply) =>
    reply.code(201).send(batchJobDto(await batch.create(org(req), draftBatch(req.body, batch.catalog), req.body))));

  app.get<{ Querystring: Query }>(BASE, { schema: { tags } }, async (req) => {
    const problems: ErrorDetail[] = [];
    const statuses = batchStatuses(req.query.statuses, problems);
    const { offset, limit } = pageQuery(req.query, problems);
    const r = await batch.list(org(req), statuses, offset, limit);
    return { total: r.total, offset, limit, jobs: r.items.map(batchJobDto) };
  });

  const one = { tags, params: idParams, response: errors };
  app.get<{ Params: IdParams }>(`${BASE}/:job_id`, { schema: one }, async (req) => batchJobDto(await batch.get(org(req), req.params.job_id)));
  app.post<{ Params: IdParams }>(`${BASE}/:job_id/cancel`, { schema: one }, async (req) => batchJobDto(await batch.cancel(org(req), req.params.job_id)));
  app.delete<{ Params: IdParams }>(`${BASE}/:job_id`, { schema: one }, async (req) => {
    const job = await batch.delete(org(req), req.params.job_id);
    return { is_valid: true, id: job.id, uuid: job.uuid };
  });

  app.get<{ Params: IdParams; Querystring: Query }>(`${BASE}/:job_id/events`, { schema: { tags, params: idParams } }, async (req) => {
    const { offset, limit } = pageQuery(req.query);
    const r = await batch.events(org(req), req.params.job_id, offset, limit);
    return { total: r.total, offset, limit, events: r.items.map(batchEventDto) };
  });

  app.get<{ Params: IdParams; Querystring: Query }>(`${BASE}/:job_id/progress`, { schema: { tags, params: idParams } }, async (req) => {
    const { offset, limit } = pageQuery(req.query);
    const r = await batch.progress(org(req), req.params.job_id, offset, limit);
    return { job_id: r.job.id, total: r.total, offset, limit, entries: r.items.map(progressEntryDto) };
  });

  app.get<{ Params: IdParams; Querystring: Query }>(`${BASE}/:job_id/outputs`, { schema: { tags, params: idParams } }, async (req) => {
    const { offset, limit } = pageQuery(req.query);
    const r = await batch.outputs(org(req), req.params.job_id, offset, limit);
    const base = requestBase(req);
    const refs = await Promise.all(r.items.map((o) => batch.outputRef(r.job, o, base)));
    return { total: r.total, offset, limit, outputs: r.items.map((o, i) => outputDto(o, refs[i]!)) };
  });

  app.get<{ Params: IdParams & { filename: string } }>(`${BASE}/:job_id/outputs/:filename`, { schema: { tags } }, async (req, reply) =>
    sendOutput(reply, await batch.openOutput(org(req), req.params.job_id, req.params.filename)));

  // A presigned ref: no bearer key; a bad, tampered or expired signature is 403 `unauthorized`.
  app.get<{ Params: { job_uuid: string; filename: string }; Querystring: Query }>(`${SIGNED_OUTPUT_ROUTE}/:job_uuid/:filename`, {
    schema: { tags, security: [] },
    config: { auth: 'signed' },
  }, async (req, reply) => sendOutput(reply, await batch.openSignedOutput(req.params.job_uuid, req.params.filename, req.query)));
}
