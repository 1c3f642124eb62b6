/**
 * The HTTP edge of the error catalogue: every failure leaves as the documented envelope. Domain errors
 * carry their code; schema failures list every problem; Fastify's own errors (bad JSON, body too
 * large, unsupported media) are mapped to catalogue codes; a store that cannot reach its database is a
 * 503 `database_unavailable` with Retry-After, an object store that fails while a request's body
 * streams into it a 503 `storage_unavailable` with Retry-After; anything else is a 500 with no stack trace.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DRAIN_LIMIT_BYTES, drainBounded } from './drain.js';
import { envelope, fromValidation, statusOf, withHttpStatus } from '../api/envelope.js';
import { FtError, type ErrorCode } from '../domain/errors.js';
import { BlobStoreUnavailableError, StoreUnavailableError } from '../domain/unavailable.js';

/** A restarted PostgreSQL accepts connections again within seconds (docs/postgres.md, measured). */
const UNAVAILABLE_RETRY_AFTER_S = 2;

export function sendError(reply: FastifyReply, err: FtError): FastifyReply {
  return reply.code(statusOf(err)).type('application/json').send(envelope(err.details));
}

const FASTIFY_CODES: Record<string, { code: ErrorCode; status: number; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_json', status: 400, message: 'the request body is empty; send a JSON object' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'invalid_file_size', status: 413, message: 'the JSON body is larger than 16 MiB, the limit for JSON requests (files go through POST /v0.5/files or a direct upload)' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'invalid_file_type', status: 415 },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'invalid_parameter', status: 400, message: 'send the file as multipart/form-data with a part named "file"' },
  FST_REQ_FILE_TOO_LARGE: { code: 'invalid_file_size', status: 413 },
  FST_ERR_BAD_URL: { code: 'invalid_request', status: 400, message: 'the path is not valid percent-encoding (e.g. %ZZ)' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri_too_long', status: 414, message: 'a path segment is longer than 512 characters' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request', status: 400, message: 'the Content-Length does not match the body' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'invalid_request', status: 400, message: 'the Content-Type header is not valid' },
  FST_ERR_CTP_INVALID_CONTENT_TYPE: { code: 'invalid_request', status: 400, message: 'the Content-Type header is not valid' },
};

/** Node's HTTP parser errors (before any route runs) → status and catalogue code. */
const PARSER_CODES: Record<string, { code: ErrorCode; status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', status: 431, message: 'the request headers are larger than 16 KB' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', status: 408, message: 'the request was not received in time' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { code: 'invalid_request', status: 400, message: 'Content-Length and Transfer-Encoding may not be sent together' },
  HPE_INVALID_CONTENT_LENGTH: { code: 'invalid_request', status: 400, message: 'the Content-Length header is not a number' },
  HPE_INVALID_EOF_STATE: { code: 'invalid_request', status: 400, message: 'the connection ended before the whole request (its Content-Length) arrived' },
  HPE_INVALID_TRANSFER_ENCODING: { code: 'invalid_request', status: 400, message: 'the Transfer-Encoding header is not valid' },
};

/**
 * Fastify's clientErrorHandler: the parser refused the bytes, so there is no request object; the
 * answer is written to the socket by hand, in the envelope, and the connection is closed (the
 * parser cannot find the next request's start after a framing error). The close lingers: our side
 * is ended and whatever the client still sends is read and dropped, up to DRAIN_LIMIT_BYTES or
 * LINGER_MS, so that a client that sends its whole body before it reads (a 16 MiB body behind
 * 17 KB of headers) reads the 431 instead of a reset (found by the route fuzzer, docs/testing.md).
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:net').Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = PARSER_CODES[err.code ?? ''] ?? { code: 'invalid_request' as const, status: 400, message: `the HTTP request is malformed (${err.code ?? 'parse error'})` };
  const body = JSON.stringify(envelope([{ code: known.code, message: known.message }]));
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  lingerThenClose(socket);
}

/** 5 s: a client still sending after that is not one waiting to read our answer. */
const LINGER_MS = 5_000;

/** Reads and drops what the peer still sends (the HTTP parser is detached first), then destroys the socket. */
function lingerThenClose(socket: import('node:net').Socket): void {
  socket.removeAllListeners('data'); // the parser would fail on every further chunk and raise clientError again
  let seen = 0;
  const close = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_LIMIT_BYTES) close();
  });
  socket.once('end', close).once('close', close);
  socket.resume();
}

/** Errors Fastify raises before routing (bad percent-encoding, an over-long path segment). */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const known = FASTIFY_CODES[err.code];
  void sendAfterBody(req, reply, known ? withHttpStatus(new FtError(known.code, known.message ?? err.message), known.status) : withHttpStatus(new FtError('invalid_request', err.message), 400));
}

/**
 * An error answered before the handler read the body (a 401 from the key check, a 429, a 404) reads
 * the rest of it first, bounded like the 413: a client that sends its whole body before it reads
 * (Python's http.client) saw EPIPE instead of the 401 on a 16 MiB body with Connection: close (found
 * by the route fuzzer, docs/testing.md). Past the bound the connection is closed after the answer.
 */
function sendAfterBody(req: FastifyRequest, reply: FastifyReply, err: FtError): Promise<FastifyReply> | FastifyReply {
  if (req.raw.readableEnded || req.raw.destroyed) return sendError(reply, err);
  return drainBounded(req.raw).then((drained) => {
    if (!drained) reply.header('connection', 'close');
    return sendError(reply, err);
  });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => sendAfterBody(req, reply, answerFor(err, req, reply)));
}

/** The catalogue error a failure is answered with (the envelope's one entry, or the schema's list). */
function answerFor(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FtError {
  if (err instanceof FtError) return err;
  if (err instanceof StoreUnavailableError) {
    req.log.warn({ err }, 'database unavailable');
    const message = err.outcomeUnknown
      ? 'the connection to the database was lost while the change was being committed: it may or may not have been made; read before repeating it'
      : 'the database is unavailable (restarting or unreachable); nothing was changed';
    reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
    return new FtError('database_unavailable', message);
  }
  if (err instanceof BlobStoreUnavailableError) {
    req.log.warn({ err }, 'object storage unavailable');
    reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
    return new FtError('storage_unavailable', 'the object store failed while the request body streamed into it; nothing was recorded');
  }
  if (err.validation) {
    const where = err.validationContext === 'querystring' ? 'the query string' : err.validationContext === 'params' ? 'the path' : 'the request body';
    return fromValidation(err.validation as never, where);
  }
  const known = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (known) return withHttpStatus(new FtError(known.code, known.message ?? err.message), known.status);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return withHttpStatus(new FtError('invalid_parameter', err.message), err.statusCode);
  }
  if (clientWentAway(err, req)) {
    // The client hung up mid-body (Ctrl-C during an upload): nothing broke here and nobody reads an answer.
    req.log.info({ method: req.method, url: req.url.split('?')[0]!.slice(0, 200) }, 'client disconnected before the request body was complete');
    return withHttpStatus(new FtError('invalid_request', 'the client disconnected before the request body was complete'), 400);
  }
  req.log.error({ err }, 'unhandled error');
  return new FtError('internal_error', 'internal error; the error_uid identifies it in the server log');
}

/** Node's "aborted" (ECONNRESET from the incoming request) once the socket closed mid-body. */
function clientWentAway(err: FastifyError, req: FastifyRequest): boolean {
  return (err.code === 'ECONNRESET' || err.message === 'aborted') && (req.raw.destroyed || req.raw.aborted || req.raw.socket?.destroyed === true);
}

/** Unknown routes: 404 in the envelope, after `preHandler` (the key check for versioned paths). */
export function installNotFound(app: FastifyInstance, preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void>): void {
  app.setNotFoundHandler({ preHandler }, (req, reply) => sendAfterBody(req, reply, new FtError('not_found', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`)));
}
