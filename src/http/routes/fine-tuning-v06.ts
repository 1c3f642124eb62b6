/**
 * /v0.6/fine_tuning/jobs (docs/spec.md#extensions-and-v06): create (Omega body), list, get, cancel,
 * stop (extension), events (newest first) and checkpoints. The same jobs are visible and stoppable
 * through /v0.5/fine-tune/jobs.
 */
import type { FastifyInstance } from 'fastify';
import { draftV06 } from '../../api/drafts-v06.js';
import { checkpointDtoV06, eventDtoV06, jobDtoV06, list } from '../../api/dto-v06.js';
import { parseAfter, parseLimitOffset, throwIfAny } from '../../api/query.js';
import { CreateJobV06 } from '../../api/schemas-v06.js';
import { ErrorEnvelopeSchema, JobIdParams } from '../../api/schemas.js';
import type { ErrorDetail } from '../../domain/errors.js';
import type { HttpDeps } from '../deps.js';

const BASE = '/v0.6/fine_tuning/jobs';
const tags = ['fine_tuning v0.6'];
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
type IdParams = { job_id: string };

export function registerFineTuningV06(app: FastifyInstance, deps: HttpDeps): void {
  const { jobs, creator } = deps;

  app.post<{ Body: CreateJobV06 }>(BASE, { schema: { tags, body: CreateJobV06, response: errors } }, async (req, reply) => {
    const { job, created } = await creator.create(draftV06(req.principal.org.uuid, req.body, req.headers['idempotency-key']));
    return reply.code(created ? 201 : 200).send(jobDtoV06(job));
  });

  app.get<{ Querystring: Record<string, unknown> }>(BASE, { schema: { tags } }, async (req) => {
    const problems: ErrorDetail[] = [];
    const { limit } = parseLimitOffset(req.query, problems, 20);
    const after = parseAfter(req.query.after, problems);
    throwIfAny(problems);
    // one more than the page tells has_more; `after` is a keyset cursor in the store (no scan of the list)
    const rows = await jobs.list(req.principal.org.uuid, { limit: limit < 0 ? -1 : limit + 1, offset: 0, after });
    const page = limit < 0 ? rows : rows.slice(0, limit);
    return list(page.map(jobDtoV06), limit >= 0 && rows.length > limit);
  });

  const one = { tags, params: JobIdParams, response: errors };
  app.get<{ Params: IdParams }>(`${BASE}/:job_id`, { schema: one }, async (req) => jobDtoV06(await jobs.get(req.principal.org.uuid, req.params.job_id)));
  app.post<{ Params: IdParams }>(`${BASE}/:job_id/cancel`, { schema: one }, async (req) => jobDtoV06(await jobs.cancel(req.principal.org.uuid, req.params.job_id)));
  app.post<{ Params: IdParams }>(`${BASE}/:job_id/stop`, { schema: one }, async (req) => jobDtoV06(await jobs.stop(req.principal.org.uuid, req.params.job_id)));

  app.get<{ Params: IdParams; Querystring: Record<string, unknown> }>(`${BASE}/:job_id/events`, { schema: { tags, params: JobIdParams } }, async (req) => {
    const problems: ErrorDetail[] = [];
    const { limit } = parseLimitOffset(req.query, problems, 20);
    throwIfAny(problems);
    const events = await jobs.events(req.principal.org.uuid, req.params.job_id, { limit: limit < 0 ? -1 : limit + 1, newestFirst: true });
    const more = limit >= 0 && events.length > limit;
    return list((more ? events.slice(0, limit) : events).map(eventDtoV06), more);
  });

  app.get<{ Params: IdParams }>(`${BASE}/:job_id/checkpoints`, { schema: { tags, params: JobIdParams } }, async (req) => {
    const ckpts = await jobs.checkpoints(req.principal.org.uuid, req.params.job_id);
    // Newest (highest step) first, as OpenAI lists them; the Archetype client takes max(step) anyway.
    return list([...ckpts].reverse().map((c) => checkpointDtoV06(c, req.params.job_id)));
  });
}
