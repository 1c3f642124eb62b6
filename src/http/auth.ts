/**
 * Who may call which route, decided on the MATCHED route, never on the URL string: every route is
 * classified when it is registered (onRoute), so `/%760.5/…`, `/v0%2E5/…` or an absolute-form target
 * (`GET http://x/v0.5/… HTTP/1.1`), which the router decodes to the same route, get the same check.
 *
 * - `key`: `Authorization: Bearer sk_…` (default for every route under /v0.5/ and /v0.6/);
 * - `signed`: the route verifies its own HMAC signature (direct-upload part URLs, presigned downloads);
 * - `worker`: the worker API's own token hook (/v1/worker/…);
 * - `public`: /healthz, /openapi.json, the dashboard's static files, /metrics (its own exposure setting).
 *
 * `req.principal` throws `unauthorized` when no key was checked, so a handler can never act for nobody
 * (it used to answer 500 "Cannot read properties of null").
 *
 * Rate limits (docs/errors.md): failed authentications per client address (default 20 a minute, then
 * 429 for every keyed request from that address until the minute is over, a right key included, so a
 * guesser learns nothing), and requests per API key (default 60,000 a minute, 1,000/s sustained: far
 * above any client we measured, low enough to stop a runaway loop). Counters live in the process: each
 * replica counts on its own.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { FtError } from '../domain/errors.js';
import type { AuthService, Principal } from '../service/auth-service.js';

export type RouteAuth = 'key' | 'signed' | 'worker' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How the route authenticates; unset: `key` under /v0.5/ and /v0.6/, `worker` under /v1/worker/, else `public`. */
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  auth: RouteAuth;
}

export interface RateLimits {
  /** Failed authentications per client address per minute before 429; 0 = unlimited. */
  authFailuresPerMinute: number;
  /** Requests per API key per minute before 429; 0 = unlimited. */
  requestsPerKeyPerMinute: number;
}

const MINUTE_MS = 60_000;
const PRINCIPAL = Symbol('principal');

type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: Principal | null };

export function defaultRouteAuth(url: string): RouteAuth {
  if (url.startsWith('/v0.5/') || url.startsWith('/v0.6/')) return 'key';
  if (url.startsWith('/v1/worker/')) return 'worker';
  return 'public';
}

function unauthorized(): FtError {
  return new FtError('unauthorized', 'missing or invalid API key: send Authorization: Bearer <key>');
}

function rateLimited(seconds: number, what: string): FtError {
  return new FtError('rate_limited', `${what}; retry in ${seconds} s`);
}

/**
 * Installs the classification, the key check and both rate limits. Must run before any route is
 * registered; returns the route table (filled as routes are added), which tests walk.
 */
export async function installRouteAuth(app: FastifyInstance, auth: AuthService, limits: RateLimits, now: () => number): Promise<RouteAuthHandle> {
  const table: RouteEntry[] = [];
  app.decorateRequest('principal', {
    getter(this: WithPrincipal): Principal {
      const p = this[PRINCIPAL];
      if (!p) throw unauthorized();
      return p;
    },
    setter(this: WithPrincipal, p: Principal) {
      this[PRINCIPAL] = p;
    },
  } as never);

  // Failed authentications: the library counts, a small map remembers who is locked out until when
  // (the library has no read-without-counting, and a locked-out address must be refused before its
  // key is even looked at).
  const lockedUntil = new Map<string, number>();
  await app.register(rateLimit, {
    global: limits.requestsPerKeyPerMinute > 0,
    hook: 'preHandler', // after the per-route key check, so the principal is known
    max: limits.requestsPerKeyPerMinute,
    timeWindow: MINUTE_MS,
    cache: 10_000,
    allowList: (req: FastifyRequest) => routeAuthOf(req) !== 'key',
    keyGenerator: (req: FastifyRequest) => (routeAuthOf(req) === 'key' ? `key:${req.principal.key_id}` : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => rateLimited(Math.ceil(ctx.ttl / 1000), `more than ${ctx.max} requests a minute with this API key`),
  });
  const countFailure = limits.authFailuresPerMinute > 0
    ? app.createRateLimit({ max: limits.authFailuresPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req: FastifyRequest) => `fail:${req.ip}` })
    : null;

  type Reply = { header(k: string, v: string): unknown };
  /** 429 with Retry-After for an address that failed too often; the lock-out ends with its minute. */
  const lockedOut = (req: FastifyRequest, reply: Reply, ms: number): FtError => {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    reply.header('retry-after', String(seconds));
    return rateLimited(seconds, `too many failed authentications from ${req.ip}`);
  };

  const requireKey = async (req: FastifyRequest, reply: Reply): Promise<void> => {
    const until = lockedUntil.get(req.ip);
    if (until !== undefined) {
      if (until > now()) throw lockedOut(req, reply, until - now());
      lockedUntil.delete(req.ip);
    }
    const principal = await auth.authenticate(req.headers.authorization);
    if (principal) {
      (req as WithPrincipal)[PRINCIPAL] = principal;
      return;
    }
    if (countFailure) {
      const r = await countFailure(req);
      if (!r.isAllowed && r.isExceeded) {
        if (lockedUntil.size > 10_000) lockedUntil.clear(); // bounded: a flood of addresses cannot grow it without end
        lockedUntil.set(req.ip, now() + r.ttl);
        throw lockedOut(req, reply, r.ttl);
      }
    }
    throw unauthorized();
  };

  app.addHook('onRoute', (route: RouteOptions) => {
    const mode = route.config?.auth ?? defaultRouteAuth(route.url ?? '');
    route.config = { ...(route.config ?? {}), auth: mode } as never;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) table.push({ method, url: route.url ?? '', auth: mode });
    if (mode !== 'key') return;
    const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [requireKey as never, ...existing];
  });
  // An unknown path under a versioned prefix without a key is a 401, not a 404: without a key nobody
  // learns which routes exist. The path is decoded the way the router decodes it.
  const unknownRoute = async (req: FastifyRequest, reply: Reply): Promise<void> => {
    if (defaultRouteAuth(decodedPath(req.url)) === 'key') await requireKey(req, reply);
  };
  return { table, unknownRoute };
}

export interface RouteAuthHandle {
  table: RouteEntry[];
  /** preHandler of the not-found handler. */
  unknownRoute: (req: FastifyRequest, reply: { header(k: string, v: string): unknown }) => Promise<void>;
}

/** The path of a request target as the router sees it: origin- or absolute-form, percent-decoded. */
export function decodedPath(target: string): string {
  let path = target;
  try {
    path = new URL(target, 'http://localhost').pathname;
  } catch {
    path = target.split('?')[0]!;
  }
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function routeAuthOf(req: FastifyRequest): RouteAuth | undefined {
  return (req.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth;
}
