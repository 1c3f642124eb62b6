/**
 * What the HTTP layer is built from: the services, the model catalog and the edge's limits. Its own
 * file so route modules name it without importing server.ts, which imports them (no import cycle).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Catalog } from '../domain/catalog.js';
import type { AuthService } from '../service/auth-service.js';
import type { FilesService } from '../service/files/files-service.js';
import type { FleetService } from '../service/workers/fleet.js';
import type { JobCreator } from '../service/jobs/job-create.js';
import type { JobsService } from '../service/jobs/jobs-service.js';
import type { RateLimits } from './auth.js';

export interface HttpDeps {
  auth: AuthService;
  jobs: JobsService;
  creator: JobCreator;
  files: FilesService;
  fleet: FleetService;
  catalog: Catalog;
  maxUploadBytes: number;
  logger: Logger | false;
  rateLimits: RateLimits;
  /**
   * Set when downloads answer with a redirect (FTNODE_S3_DOWNLOAD_REDIRECT on object storage): a
   * presigned GET of the object served as `filename`, or null to stream it as usual.
   */
  downloadRedirect?: (blobKey: string, filename: string) => Promise<string | null>;
  /** The injected clock's now(), for lock-out expiry. */
  now: () => number;
  /** Extra route modules (v0.6, batch, workers API) registered by the composition root. */
  extraRoutes?: Array<(app: FastifyInstance) => void>;
}
