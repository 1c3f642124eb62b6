/**
 * GET /metrics: Prometheus text format from service/metrics.ts, and the
 * request-latency histogram fed by an onResponse hook, labelled by the route PATTERN
 * (`/v0.5/fine-tune/jobs/:job_id`, never the id itself: one series per route, not per job) and status.
 * Hijacked streams (SSE, worker sessions) are not requests that end, so they are not observed.
 * Who may read it is a setting (docs/configuration.md): `local` (default; loopback clients only),
 * `token` (a bearer token of its own, never an API key: scrapers should not hold one), `public`, or
 * `off`. A refused scrape is a 404, as if the route did not exist, except a wrong token (401).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FtError } from '../domain/errors.js';
import type { Metrics } from '../service/metrics.js';

export interface MetricsExposure {
  exposure: 'local' | 'token' | 'public' | 'off';
  token: string | null;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function mayScrape(req: FastifyRequest, o: MetricsExposure): boolean {
  if (o.exposure === 'public') return true;
  if (o.exposure === 'local') return LOOPBACK.test(req.socket.remoteAddress ?? '');
  if (o.exposure === 'token') {
    const sent = Buffer.from(/^Bearer\s+(\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '');
    const want = Buffer.from(o.token ?? '');
    if (sent.length === want.length && want.length > 0 && timingSafeEqual(sent, want)) return true;
    throw new FtError('unauthorized', 'GET /metrics needs Authorization: Bearer <FTNODE_METRICS_TOKEN>');
  }
  return false;
}

export function registerMetrics(app: FastifyInstance, metrics: Metrics, o: MetricsExposure = { exposure: 'local', token: null }): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.http.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (req, reply) => {
    if (!mayScrape(req, o)) throw new FtError('not_found', 'no route GET /metrics');
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.render();
  });
}
