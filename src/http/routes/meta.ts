/** Health, fleet status and the model catalog. */
import type { FastifyInstance } from 'fastify';
import { isoMicros } from '../../domain/time.js';
import { createEndpointFor } from '../../domain/catalog.js';
import type { HttpDeps } from '../deps.js';

export function registerMeta(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));

  app.get('/v0.5/fine-tune/status', { schema: { tags: ['fine-tune v0.5'] } }, async (req) => {
    const s = await deps.fleet.status(req.principal.org.uuid);
    return { ...s, updated_at: isoMicros(s.updated_at) };
  });

  app.get('/v0.5/fine-tune/models', { schema: { tags: ['fine-tune v0.5'] } }, async () => ({
    data: Object.entries(deps.catalog).map(([id, e]) => ({
      id,
      trainer: e.trainer,
      kind: e.kind,
      stand_in: e.stand_in ?? false,
      description: e.description ?? null,
      api: createEndpointFor(e.kind).replace(/^POST /, ''),
    })),
  }));
}
