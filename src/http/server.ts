/**
 * The HTTP server: Fastify with body parsing that accepts JSON whatever the Content-Type says (the
 * official client sends none), multipart uploads, authentication per matched route (auth.ts), the
 * error envelope (errors.ts) and the OpenAPI document. It registers the meta, v0.5 jobs and files,
 * v0.6 and dashboard routes; the batch, worker-API and /metrics routes are added by the composition
 * root through HttpDeps.extraRoutes (deps.ts).
 */
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { FtError } from '../domain/errors.js';
import { installRouteAuth, type RouteEntry } from './auth.js';
import type { HttpDeps } from './deps.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers, installNotFound } from './errors.js';
import { registerDashboard } from './routes/dashboard.js';
import { MAX_FORM_FIELDS, registerFilesV05 } from './routes/files-v05.js';
import { registerFineTuningV06 } from './routes/fine-tuning-v06.js';
import { registerJobsV05 } from './routes/jobs-v05.js';
import { registerMeta } from './routes/meta.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route with its authentication mode (tests walk it). */
    routeTable: RouteEntry[];
  }
}

export type { HttpDeps } from './deps.js';

export async function buildServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger || undefined,
    logger: deps.logger ? undefined : false,
    // close() ends idle keep-alive sockets too, instead of waiting out their 72 s timeout.
    forceCloseConnections: true,
    bodyLimit: 16 * 1024 * 1024, // JSON bodies (predict rows): 16 MiB; files go through multipart streams
    // Ids are at most 64 characters; a longer segment still reaches the route (a 404 in the envelope)
    // up to 512, beyond which the router answers 414 uri_too_long (Fastify's default is 100).
    routerOptions: { maxParamLength: 512 },
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true } },
    // One log line per request would drown the job events at 10k requests/s; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => Math.random().toString(36).slice(2, 10),
  }) as unknown as FastifyInstance;

  installErrorHandlers(app);
  installJsonParser(app);
  await app.register(multipart, { limits: { fileSize: deps.maxUploadBytes, files: 1, fields: MAX_FORM_FIELDS } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'ftnode', version: '0.1.0', description: 'Self-hosted fine-tuning service, wire-compatible with the Archetype AI Fine-Tuning API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  const routeAuth = await installRouteAuth(app, deps.auth, deps.rateLimits, deps.now);
  app.decorate('routeTable', routeAuth.table);
  installNotFound(app, routeAuth.unknownRoute);

  registerMeta(app, deps);
  registerJobsV05(app, deps);
  registerFilesV05(app, deps);
  registerFineTuningV06(app, deps);
  for (const add of deps.extraRoutes ?? []) add(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerDashboard(app); // static files at / (public; the dashboard calls the API with the signed-in key)
  return app;
}

/** JSON for application/json and for any other non-multipart type; an empty body is no body. */
function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new FtError('invalid_json', `the request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });
}
