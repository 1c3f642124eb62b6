/**
 * GET /metrics (public, contract §1): Prometheus text format from service/metrics.ts, and the
 * request-latency histogram fed by an onResponse hook, labelled by the route PATTERN
 * (`/v0.5/fine-tune/jobs/:job_id`, never the id itself: one series per route, not per job) and status.
 * Hijacked streams (SSE, worker sessions) are not requests that end, so they are not observed.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../service/metrics.js';

export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.http.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.render();
  });
}
