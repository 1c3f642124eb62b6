/**
 * The web dashboard's static files, public (the auth hook guards only /v0.5 and /v0.6; the dashboard
 * itself calls the API with the key the user signs in with):
 *   /                  web/index.html
 *   /assets/<name>     web/assets/* (styles)
 *   /app/<path>.js     the compiled modules: dist/web/src/** and the client they import, dist/src/client/**
 *   /vendor/uplot.*    the charting library from node_modules (never a CDN)
 * Only those folders are reachable: names are matched against a strict pattern, so no `..` escapes.
 * Hidden from the OpenAPI document. A name that is not served is a 404 in the error envelope, like
 * every other error of the server (docs/errors.md; the route fuzzer checks it).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { FtError } from '../../domain/errors.js';
import { sendError } from '../errors.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/src/http/routes → package root
const WEB = join(ROOT, 'web');
const DIST = join(ROOT, 'dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json; charset=utf-8',
};
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
const APP_PATH = /^(web\/src|src\/client)\/(?:[\w-]+\/)*[\w.-]+\.js(?:\.map)?$/;

function uplotDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('uplot'));
  } catch {
    return null;
  }
}

function notFound(reply: FastifyReply): FastifyReply {
  return sendError(reply, new FtError('not_found', `no dashboard file ${reply.request.url.split('?')[0]!.slice(0, 200)}`));
}

async function sendFile(reply: FastifyReply, file: string, extraHeaders: Record<string, string> = {}): Promise<FastifyReply> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return notFound(reply);
  const ext = file.slice(file.lastIndexOf('.'));
  return reply
    .headers({ 'content-type': TYPES[ext] ?? 'application/octet-stream', 'content-length': String(info.size), 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...extraHeaders })
    .send(createReadStream(file));
}

export function registerDashboard(app: FastifyInstance): void {
  const hide = { schema: { hide: true } };
  const vendor = uplotDir();

  app.get('/', hide, async (_req, reply) => {
    if (!(await stat(join(DIST, 'web/src/main.js')).catch(() => null))) {
      return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `npm run build` (it compiles web/ with `tsc -p web/tsconfig.json`). The API works without it.');
    }
    return sendFile(reply, join(WEB, 'index.html'), { 'content-security-policy': CSP, 'x-frame-options': 'DENY' });
  });

  app.get<{ Params: { name: string } }>('/assets/:name', hide, async (req, reply) => {
    if (!/^[\w-]+\.(css)$/.test(req.params.name)) return notFound(reply);
    return sendFile(reply, join(WEB, 'assets', req.params.name));
  });

  app.get<{ Params: { '*': string } }>('/app/*', hide, async (req, reply) => {
    const path = req.params['*'];
    if (!APP_PATH.test(path) || path.includes('..')) return notFound(reply);
    return sendFile(reply, join(DIST, path));
  });

  app.get<{ Params: { name: string } }>('/vendor/:name', hide, async (req, reply) => {
    const file = { 'uplot.esm.js': 'uPlot.esm.js', 'uplot.min.css': 'uPlot.min.css' }[req.params.name];
    if (!file || !vendor) return notFound(reply);
    return sendFile(reply, join(vendor, file));
  });
}
