/**
 * The worker API, /v1/worker/... (docs/scaling.md): what `ftnode worker` processes on other hosts
 * call. Guarded by worker tokens (`Authorization: Bearer wk_…`), never by user API keys (the server's
 * user-key hook covers /v0.5 and /v0.6 only). Fenced calls carry `{fence: {attempt_id, lease_token}}`
 * in the body, or the attempt in the path and the token in `x-ftnode-lease-token`; a refusal is a
 * normal answer (`ok: false`, `job: null`, `checkpoint: null`: the lease is gone, stop), not an error.
 * Downloads stream with `content-length` and `x-ftnode-sha256`, which the worker verifies.
 * Every route is a row of the protocol table (api/worker-protocol.ts): the fenced JSON calls are
 * registered from it in one loop, the others by name with the table's method and path.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Multipart } from '@fastify/multipart';
import { FENCED, FENCED_NAMES, fenceOf, ROUTES, WORKER_API_PREFIX, type RouteName } from '../../api/worker-protocol.js';
import { registrationOf } from '../../api/worker-reports.js';
import { FtError } from '../../domain/errors.js';
import type { Fence } from '../../domain/work.js';
import type { WorkerTokenRecord } from '../../domain/types.js';
import { WorkerApi, type Download } from '../../service/workers/worker-api.js';
import type { WorkerSessions } from '../../service/workers/worker-sessions.js';
import type { WorkerTokenService } from '../../service/workers/worker-tokens.js';
import { endWithRequest, guardPart, multipartError, requireBoundary } from '../multipart-guard.js';
import { drainBody } from '../drain.js';

export interface WorkerRouteDeps {
  api: WorkerApi;
  sessions: WorkerSessions;
  tokens: WorkerTokenService;
}

declare module 'fastify' {
  interface FastifyRequest {
    workerToken: WorkerTokenRecord;
  }
}

type Body = Record<string, any>;
const hide = { hide: true };

function pathFence(req: FastifyRequest): Fence {
  return fenceOf({ attempt_id: (req.params as Body).attempt_id, lease_token: Number(req.headers['x-ftnode-lease-token']) });
}

function body(req: FastifyRequest): Body {
  const b = req.body as Body | undefined;
  if (!b || typeof b !== 'object') throw new FtError('invalid_json', 'send a JSON object');
  return b;
}

function sendDownload(reply: FastifyReply, d: Download | null): FastifyReply {
  if (!d) throw new FtError('invalid_state_transition', "refused: the attempt no longer holds its lease, or the file is not its job's");
  return reply.type('application/octet-stream').header('content-length', d.size).header('x-ftnode-sha256', d.sha256).send(d.stream);
}

function parseReport(text: string): Body {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Body;
  } catch {
    // reported below
  }
  throw new FtError('invalid_json', 'the multipart field "report" must be a JSON object');
}

/**
 * Reads a multipart body `report` (JSON field) then `file`; `handle` gets both, and may leave the file unread (refused).
 * Other file parts are read and ignored (up to 8). `handle` runs while the loop goes on reading the
 * parts after the file, and its file stream ends only once the whole request has arrived
 * (endWithRequest): a commit on that end never follows a request the HTTP parser answered 400. Once
 * `handle` committed, what follows in the body cannot undo it: a parser error after that (a fields or
 * parts limit) answers the commit, not a 4xx for a checkpoint that was stored (found by the route
 * fuzzer, docs/testing.md).
 */
async function upload<T>(req: FastifyRequest, handle: (report: Body, file: Readable) => Promise<T>): Promise<T> {
  if (!req.isMultipart()) {
    await drainBody(req.raw);
    throw new FtError('invalid_parameter', 'send multipart/form-data: a field "report" (JSON), then the file part "file"');
  }
  let report: Body | null = null;
  let pending: Promise<T> | null = null;
  let parserError: unknown = null;
  const opts = { limits: { fileSize: Infinity, files: 8, fields: 4 } };
  try {
    requireBoundary(req);
    for await (const part of req.parts(opts as never) as AsyncIterableIterator<Multipart>) {
      if (part.type === 'field') {
        if (part.fieldname === 'report') report = parseReport(String(part.value));
        continue;
      }
      if (part.fieldname !== 'file' || !report || pending) {
        part.file.resume();
        continue;
      }
      pending = handleFile(req, part.file, report, handle);
      pending.catch(() => undefined); // settled below, once the loop has read the rest of the parts
    }
  } catch (err) {
    parserError = err;
    await drainBody(req.raw);
  }
  if (!pending) {
    if (parserError) throw parserFailure(parserError);
    throw new FtError('missing_parameter', 'the multipart body needs a field "report" before the file part "file"');
  }
  try {
    return await pending; // committed: a parser error after the file part was about extra bytes
  } catch (err) {
    await drainBody(req.raw);
    throw parserError ? parserFailure(parserError) : (multipartError(err) ?? err);
  }
}

function handleFile<T>(req: FastifyRequest, part: Readable, report: Body, handle: (report: Body, file: Readable) => Promise<T>): Promise<T> {
  const unguard = guardPart(req.raw, part);
  const file = endWithRequest(req.raw, part);
  return handle(report, file).finally(() => {
    unguard();
    file.resume(); // refused without reading: discard the rest
  });
}

function parserFailure(err: unknown): unknown {
  if ((err as { code?: string }).code === 'FST_FILES_LIMIT') return new FtError('invalid_parameter', 'too many file parts: send one, named "file"');
  return multipartError(err) ?? err;
}

export function registerWorkerApi(app: FastifyInstance, d: WorkerRouteDeps): void {
  void app.register(async (w) => {
    w.decorateRequest('workerToken', null as unknown as WorkerTokenRecord);
    w.addHook('onRequest', async (req) => {
      const token = await d.tokens.authenticate(req.headers.authorization);
      if (!token) throw new FtError('unauthorized', 'missing or invalid worker token: send Authorization: Bearer wk_… (ftnode workers token create)');
      req.workerToken = token;
    });
    const workerId = (req: FastifyRequest, id: unknown): string => {
      const mapped = typeof id === 'string' ? WorkerApi.workerId(req.workerToken.id, id) : null;
      if (!mapped) throw new FtError('invalid_parameter', 'worker_id must look like remote:<node>:<boot hex>:<slot>');
      return mapped;
    };
    const prefixOf = (req: FastifyRequest, p: unknown): string => {
      const mapped = typeof p === 'string' ? WorkerApi.workerPrefix(req.workerToken.id, p) : null;
      if (!mapped) throw new FtError('invalid_parameter', 'prefix must look like remote:<node>:<boot hex>:');
      return mapped;
    };

    /** A table row's method and path, under the plugin's /v1/worker prefix. */
    const route = (name: RouteName, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void => {
      const r = ROUTES[name];
      w.route({ method: r.method, url: r.path, schema: hide, handler });
    };

    route('info', async () => d.api.info());

    route('claim', async (req, reply) => {
      const b = body(req);
      const id = workerId(req, b.worker_id);
      const gone = new AbortController();
      const onClose = (): void => gone.abort();
      reply.raw.once('close', onClose); // before we answer, 'close' means the worker went away: stop waiting for it
      try {
        return { work: await d.api.claim(id, Number(b.wait_ms ?? d.api.settings.claim_wait_ms), gone.signal) };
      } finally {
        reply.raw.off('close', onClose);
      }
    });

    for (const name of FENCED_NAMES) {
      const op = FENCED[name];
      w.post(op.path, { schema: hide }, async (req) => {
        const b = body(req);
        const [fence, ...args] = op.args(b, () => fenceOf(b.fence));
        return { [op.reply]: await d.api.fenced(name, op.job, fence, args, op.refused) };
      });
    }

    route('datasetFile', async (req, reply) => sendDownload(reply, await d.api.datasetFile(pathFence(req), (req.params as Body).file_uid)));
    route('checkpointFile', async (req, reply) => sendDownload(reply, await d.api.checkpointFile(pathFence(req), (req.params as Body).checkpoint_id)));
    route('resourceCheckpoint', async (req, reply) => sendDownload(reply, await d.api.resourceCheckpoint(pathFence(req))));

    route('commitCheckpoint', async (req) => {
      const fence = pathFence(req);
      const { report, reply } = ROUTES.commitCheckpoint;
      return { [reply]: await upload(req, (r, file) => d.api.commitCheckpoint(fence, report(r), file)) };
    });
    route('commitOutput', async (req) => {
      const fence = pathFence(req);
      const { report, reply } = ROUTES.commitOutput;
      return { [reply]: await upload(req, (r, file) => d.api.commitOutput(fence, report(r), file)) };
    });

    route('register', async (req) => {
      const r = body(req).worker as Body | undefined;
      await d.api.register(workerId(req, r?.id), registrationOf(r));
      return { ok: true };
    });
    route('unregister', async (req) => {
      await d.api.unregister(workerId(req, (req.params as Body).worker_id));
      return { ok: true };
    });

    route('session', async (req, reply) => {
      const prefix = prefixOf(req, (req.query as Body).prefix);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      if (req.method === 'HEAD') return void res.end(); // Node sends a HEAD's headers only at its end
      try {
        const done = await d.sessions.start(prefix, (text) => res.write(text), () => res.end());
        if (res.destroyed) done(false);
        else res.once('close', () => done(false));
      } catch (err) {
        req.log.error({ err }, 'worker session failed to start');
        res.end();
      }
    });
    route('sessionEnd', async (req) => {
      await d.sessions.recoverNow(prefixOf(req, body(req).prefix));
      return { ok: true };
    });
  }, { prefix: WORKER_API_PREFIX });
}
