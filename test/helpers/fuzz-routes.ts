/**
 * The routes the fuzzer covers and what a valid request to each looks like. The list is the union of
 * the server's OpenAPI document (GET /openapi.json: paths, query parameters, JSON or multipart bodies)
 * and the route table the server keeps of everything it registered (`app.server.routeTable`), which
 * also holds the routes hidden from the document (/healthz, /openapi.json, the worker API, the
 * dashboard's files). A route in the document that the server did not register is an error.
 *
 * Samples name seeded resources symbolically (`@@own.file`), resolved by Seeds at send time.
 */
import type { RouteEntry } from '../../src/http/auth.js';
import { batchBody, v06Body } from './fuzz-seed.js';

export type BodyKind = 'none' | 'json' | 'multipart' | 'bytes';

export interface FuzzRoute {
  method: string;
  /** Fastify syntax: `/v0.5/fine-tune/jobs/:job_id`, `/v0.5/files/metadata/*`. */
  url: string;
  auth: RouteEntry['auth'];
  hidden: boolean;
  /** Query parameter names the route reads (from the document, plus those its code reads). */
  query: string[];
  body: BodyKind;
}

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, unknown> };
  consumes?: string[];
}

/** Query parameters the route code reads that the document does not list (handlers parse them by hand). */
const EXTRA_QUERY: Record<string, string[]> = {
  'GET /v0.5/files/metadata': ['shard_index', 'max_items_per_shard'],
  'GET /v0.5/fine-tune/jobs/:job_id/events': ['order'],
  'GET /v0.6/fine_tuning/jobs': ['limit', 'after'],
  'GET /v0.6/fine_tuning/jobs/:job_id/events': ['limit'],
  'GET /v0.5/batch/jobs': ['limit', 'offset', 'statuses'],
  'GET /v0.5/batch/jobs/:job_id/events': ['limit', 'offset'],
  'GET /v0.5/batch/jobs/:job_id/progress': ['limit', 'offset'],
  'GET /v0.5/batch/jobs/:job_id/outputs': ['limit', 'offset'],
  'GET /v1/worker/session': ['prefix'],
  'PUT /v0.5/files/uploads/:upload_id/parts/:part_number': ['expires', 'sig'],
};

/** Multipart routes (the document says so for the files routes; the worker's upload routes are hidden). */
const MULTIPART = new Set([
  'POST /v0.5/files', 'POST /v0.5/files/base64',
  'POST /v1/worker/attempts/:attempt_id/checkpoints', 'POST /v1/worker/attempts/:attempt_id/outputs',
]);

const fromOpenApi = (path: string): string => path.replace(/\{\*\}/g, '*').replace(/\{([^}]+)\}/g, ':$1');

export function fuzzRoutes(doc: { paths: Record<string, Record<string, OpenApiOperation>> }, table: RouteEntry[]): FuzzRoute[] {
  const documented = new Map<string, OpenApiOperation>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) documented.set(`${method.toUpperCase()} ${fromOpenApi(path)}`, op);
  }
  const registered = new Set(table.map((r) => `${r.method} ${r.url}`));
  for (const key of documented.keys()) if (!registered.has(key)) throw new Error(`${key} is in /openapi.json but not registered`);
  return table.map((r) => {
    const key = `${r.method} ${r.url}`;
    const op = documented.get(key) ?? documented.get(`GET ${r.url}`); // HEAD shares its GET's operation
    const query = new Set([...(op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name), ...(EXTRA_QUERY[`GET ${r.url}`] ?? []), ...(EXTRA_QUERY[key] ?? [])]);
    const content = Object.keys(op?.requestBody?.content ?? {});
    let body: BodyKind = 'none';
    if (MULTIPART.has(key) || content.includes('multipart/form-data') || op?.consumes?.includes('multipart/form-data')) body = 'multipart';
    else if (r.method === 'PUT' && r.url.endsWith('/parts/:part_number')) body = 'bytes';
    else if (content.includes('application/json') || (r.method === 'POST' && !op)) body = 'json';
    return { method: r.method, url: r.url, auth: r.auth, hidden: !documented.has(key) && !(r.method === 'HEAD' && documented.has(`GET ${r.url}`)), query: [...query], body };
  });
}

const fence = '@@own.fence';

/** A valid JSON body per route (with references), or {} where any object will do. */
export function sampleJson(route: FuzzRoute): unknown {
  const byRoute: Record<string, unknown> = {
    'POST /v0.5/fine-tune/jobs': { name: 'fuzz', config: { model: 'fixture-ok', datasets: [{ name: 'train', split: 'train', file_ids: ['@@own.file'] }] } },
    'POST /v0.5/fine-tune/jobs/:job_id/predict': { examples: ['hello'] },
    'POST /v0.5/files/uploads/initiate': { filename: 'fuzz-initiated.bin', file_type: 'application/octet-stream', num_bytes: 10, resume_if_started: true },
    'POST /v0.5/files/uploads/:upload_id/parts/urls': { part_numbers: [0] },
    'POST /v0.5/files/uploads/:upload_id/parts/checkpoint': { parts: [{ part_number: 0, part_token: '@@own.partToken' }] },
    'POST /v0.5/files/uploads/:upload_id/complete': { parts: [{ part_number: 0, part_token: '@@own.partToken' }], integrity_checksum: null },
    'POST /v0.5/files/uploads/:upload_id/abort': {},
    'POST /v0.6/fine_tuning/jobs': v06Body(),
    'POST /v0.6/fine_tuning/jobs/:job_id/cancel': {},
    'POST /v0.6/fine_tuning/jobs/:job_id/stop': {},
    'POST /v0.5/batch/jobs': batchBody(),
    'POST /v0.5/batch/jobs/:job_id/cancel': {},
    'POST /v1/worker/claim': { worker_id: '@@worker.id', wait_ms: 0 },
    'POST /v1/worker/heartbeat': { fence },
    'POST /v1/worker/progress': { fence, progress: { step: 1, total_steps: 2, epoch: 1 } },
    'POST /v1/worker/metrics': { fence, step: 1, values: { loss: 0.5 } },
    'POST /v1/worker/events': { fence, level: 'info', type: 'log', message: 'fuzz' },
    'POST /v1/worker/advance': { fence, action: 'start_training', event: { type: 'log', message: 'fuzz' } },
    'POST /v1/worker/finish': { fence },
    'POST /v1/worker/fail': { fence, code: 'trainer_error', message: 'fuzz' },
    'POST /v1/worker/workers': { worker: { id: '@@worker.id', node: 'fuzz', kind: 'remote', concurrency: 1 } },
    'POST /v1/worker/session/end': { prefix: '@@worker.prefix' },
  };
  return byRoute[`${route.method} ${route.url}`] ?? {};
}

/** The multipart `report` field of the worker's upload routes. */
export function sampleReport(route: FuzzRoute, size: number, sha256: string): Record<string, unknown> {
  if (route.url.endsWith('/outputs')) return { filename: 'fuzz_output.csv', size, sha256, input_file_id: '@@own.csv0' };
  return { step: 1, name: 'fuzz', size, sha256, metrics: { loss: 0.5 }, meta: {} };
}

/** What a path parameter names, by its name: the references that fit it best. */
export function refsForParam(route: FuzzRoute, name: string): string[] {
  switch (name) {
    case 'job_id':
      // Each family's own kind of job first (a batch route with a fine-tune job is a plain 404). A
      // DELETE must not take the COMPLETED job: it is the only one with a checkpoint and an inference config.
      if (route.url.startsWith('/v0.5/batch/')) return ['own.batchJob', 'own.batchJob', 'own.job', 'other.job'];
      if (route.url.startsWith('/v0.6/')) return ['own.v06Job', 'own.completedJob', 'own.claimedJob', 'other.job'];
      return route.method === 'DELETE'
        ? ['own.job', 'own.v06Job', 'own.batchJob', 'other.job']
        : ['own.job', 'own.completedJob', 'own.completedJob', 'own.claimedJob', 'own.v06Job', 'other.job'];
    case 'ckp_id':
    case 'checkpoint_id':
      return ['own.checkpoint'];
    case '*':
      return route.url.startsWith('/v0.5/files/') ? ['own.file', 'own.csv0', 'other.file'] : [];
    case 'upload_id':
      return ['own.upload', 'other.upload'];
    case 'attempt_id':
      return ['own.attempt'];
    case 'file_uid':
      return ['own.fileUid'];
    case 'worker_id':
      return ['worker.id'];
    default:
      return [];
  }
}

/** Query parameters that make a request valid: the signed part URL's own query, the worker session's prefix. */
export function sampleQuery(route: FuzzRoute): Array<[string, string]> | null {
  if (route.query.includes('sig')) return [['@@signed', 'own.partQuery']];
  if (route.query.includes('prefix')) return [['prefix', 'worker.prefix']];
  return null;
}

/** A parameter value the route's own handler would accept when it is not a seeded resource (/vendor takes uplot.esm.js). */
export function plainValue(url: string, name: string): string {
  if (url.startsWith('/vendor/')) return 'uplot.esm.js';
  const plain: Record<string, string> = { part_number: '0', filename: 'fuzz_output.csv', name: 'style.css', '*': 'web/src/main.js' };
  return plain[name] ?? `x-${name}`;
}
