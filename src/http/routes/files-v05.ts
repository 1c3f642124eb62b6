/**
 * /v0.5/files: simple multipart upload (field `file`), base64 upload, info, metadata (list and one),
 * download (streamed, HTTP Range) and delete; the direct-upload routes are in uploads-v05.ts.
 * Uploads stream straight to the blob store. On every failure the rest of the request body is read
 * before the answer goes out, so a client that sends its whole body before reading (the official
 * Python client) gets the 413/400 instead of a connection reset (docs/spec.md#files).
 * Routes taking a file_id use a wildcard: names may be up to 255 bytes, past the router's 100-character
 * parameter limit.
 */
import type { Multipart, MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { drainBody } from '../drain.js';
import { withHttpStatus } from '../../api/http-status.js';
import { clampedInt, throwIfAny } from '../../api/query.js';
import { FtError, type ErrorDetail } from '../../domain/errors.js';
import type { FileRecord } from '../../domain/types.js';
import type { PendingFile } from '../../service/files/files-service.js';
import { guardPart, multipartError, requireBoundary } from '../multipart-guard.js';
import type { HttpDeps } from '../deps.js';
import { registerUploadsV05 } from './uploads-v05.js';

const tags = ['files v0.5'];
/**
 * Multipart framing and small fields on top of the file: a declared body longer than limit + 1 MiB
 * is refused without writing a byte (the official client's 500 MiB test body is 12 MB over a 512 MB
 * limit); a shorter one is metered as it streams (busboy stops at the limit).
 */
const MULTIPART_ALLOWANCE = 1024 * 1024;
/** Non-file form fields accepted beside the file (the server's multipart limit). */
export const MAX_FORM_FIELDS = 10;

export function fileMetadataDto(f: FileRecord): Record<string, unknown> {
  return {
    file_id: f.file_id,
    file_uid: f.file_uid,
    file_type: f.file_type,
    num_bytes: f.num_bytes,
    file_status: 'FILE_STATUS_INGESTED',
    ingested: true,
    file_index: f.file_index,
    file_tags: {},
    file_attributes: { sha256: f.sha256, ...f.attributes },
  };
}


const fileIdOf = (req: FastifyRequest): string => (req.params as Record<string, string>)['*'] ?? '';

async function receive(req: FastifyRequest, deps: HttpDeps, encoding: 'raw' | 'base64'): Promise<Record<string, unknown>> {
  const max = deps.files.maxUploadBytes;
  if (!req.isMultipart()) {
    await drainBody(req.raw);
    throw new FtError('invalid_parameter', 'send the file as multipart/form-data with a part named "file"');
  }
  try {
    requireBoundary(req);
  } catch (err) {
    await drainBody(req.raw);
    throw err;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max + MULTIPART_ALLOWANCE) {
    await drainBody(req.raw); // certainly over the limit: read past it without writing anything
    throw new FtError('invalid_file_size', `the request is ${declared} bytes, over the ${max}-byte limit for simple uploads; use a direct upload (POST /v0.5/files/uploads/initiate)`);
  }
  let pending: PendingFile | null = null;
  let current: MultipartFile | null = null;
  let fields = 0;
  try {
    // preservePath: a name with a path separator is refused, not silently cut to its base name;
    // files: other file parts are read and ignored instead of failing the request
    const opts = { limits: { fileSize: max, files: 8 }, throwFileSizeLimit: false, preservePath: true };
    for await (const part of req.parts(opts as never) as AsyncIterableIterator<Multipart>) {
      if (part.type !== 'file') {
        fields++;
        continue;
      }
      if (part.fieldname !== 'file' || pending) {
        part.file.resume();
        continue;
      }
      current = part;
      const unguard = guardPart(req.raw, part.file);
      try {
        pending = await deps.files.receive(req.principal.org.uuid, part.filename, part.mimetype, part.file, encoding);
      } finally {
        unguard();
      }
      current = null;
    }
  } catch (err) {
    current?.file.resume();
    await pending?.discard(); // the body broke after the file part: store nothing
    await drainBody(req.raw);
    if ((err as { code?: string }).code === 'FST_FILES_LIMIT') throw new FtError('invalid_parameter', 'too many file parts: send one, named "file"');
    // The parser drops fields past its limit and then breaks off the file part: say which limit it was.
    throw multipartError(fields >= MAX_FORM_FIELDS ? { code: 'FST_FIELDS_LIMIT' } : err) ?? err;
  }
  if (!pending) throw new FtError('missing_parameter', 'the multipart body has no file part named "file"');
  const stored = await pending.record(); // visible only once the whole request has arrived
  return { is_valid: true, file_id: stored.file_id, file_uid: stored.file_uid };
}

/** One `bytes=` range (inclusive ends) → the slice, 'unsatisfiable', or null (absent or ignored). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header); // several ranges: ignored (RFC 9110 allows it)
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return null; // syntactically invalid: ignore the header
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

function parseShardQuery(q: Record<string, unknown>): { shard: number; max: number } {
  const problems: ErrorDetail[] = [];
  const read = (name: string, min: number): number => {
    const v = q[name];
    if (v === undefined) return -1;
    const s = String(v);
    if (Array.isArray(v) || !/^-?\d+$/.test(s) || (Number(s) < min && Number(s) !== -1)) {
      problems.push({ code: 'invalid_parameter', message: `${name} must be -1 (all) or an integer ≥ ${min}, got '${s}'` });
      return -1;
    }
    return clampedInt(s);
  };
  const shard = read('shard_index', 0);
  const max = read('max_items_per_shard', 1);
  throwIfAny(problems);
  return { shard, max };
}

async function download(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const f = await deps.files.getForDownload(req.principal.org.uuid, fileIdOf(req));
  const range = parseRange(req.headers.range, f.num_bytes);
  reply.header('accept-ranges', 'bytes');
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${f.num_bytes}`);
    throw withHttpStatus(new FtError('invalid_parameter', `range '${req.headers.range}' is outside the file's ${f.num_bytes} bytes`), 416);
  }
  // Straight from the bucket when configured: the client re-sends its Range to the presigned URL.
  const to = await deps.downloadRedirect?.(f.blob_key, f.file_id);
  if (to) return reply.redirect(to, 302);
  const stream = await deps.files.openBytes(f, range ?? undefined);
  const ascii = f.file_id.replace(/[^\x20-\x7e]|["\\]/g, '_');
  reply
    .header('content-type', 'application/octet-stream')
    .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(f.file_id)}`)
    .header('content-length', range ? range.end - range.start + 1 : f.num_bytes);
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${f.num_bytes}`);
  return reply.send(stream);
}

export function registerFilesV05(app: FastifyInstance, deps: HttpDeps): void {
  const { files } = deps;
  const multipart = { tags, consumes: ['multipart/form-data'] };
  app.post('/v0.5/files', { schema: multipart }, async (req) => receive(req, deps, 'raw'));
  app.post('/v0.5/files/base64', { schema: multipart }, async (req) => receive(req, deps, 'base64'));

  app.get('/v0.5/files/info', { schema: { tags } }, async (req) => files.info(req.principal.org.uuid));

  app.get<{ Querystring: Record<string, unknown> }>('/v0.5/files/metadata', { schema: { tags } }, async (req) => {
    const { shard, max } = parseShardQuery(req.query);
    return (await files.list(req.principal.org.uuid, shard, max)).map(fileMetadataDto);
  });

  app.get('/v0.5/files/metadata/*', { schema: { tags } }, async (req) => {
    const f = await files.get(req.principal.org.uuid, fileIdOf(req));
    return { ...fileMetadataDto(f), is_valid: true };
  });

  app.get('/v0.5/files/download/*', { schema: { tags } }, async (req, reply) => download(req, reply, deps));

  app.delete('/v0.5/files/delete/*', { schema: { tags } }, async (req) => {
    const f = await files.delete(req.principal.org.uuid, fileIdOf(req));
    return { is_valid: true, file_id: f.file_id, file_uid: f.file_uid };
  });

  registerUploadsV05(app, deps);
}
