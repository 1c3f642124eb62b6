/**
 * The HTTP edge of the error catalogue: every failure leaves as the documented envelope. Domain errors
 * carry their code; schema failures list every problem; Fastify's own errors (bad JSON, body too
 * large, unsupported media) are mapped to catalogue codes; a store that cannot reach its database is a
 * 503 `database_unavailable` with Retry-After; anything else is a 500 with no stack trace.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { envelope, fromValidation, statusOf } from '../api/envelope.js';
import { FtError, type ErrorCode } from '../domain/errors.js';
import { StoreUnavailableError } from '../domain/unavailable.js';

/** A restarted PostgreSQL accepts connections again within seconds (docs/postgres.md, measured). */
const UNAVAILABLE_RETRY_AFTER_S = 2;

export function sendError(reply: FastifyReply, err: FtError): FastifyReply {
  return reply.code(statusOf(err)).type('application/json').send(envelope(err.details));
}

const FASTIFY_CODES: Record<string, { code: ErrorCode; status: number; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_json', status: 400, message: 'the request body is empty; send a JSON object' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'invalid_file_size', status: 413, message: 'the request body is larger than this endpoint accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'invalid_file_type', status: 415 },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'invalid_parameter', status: 400, message: 'send the file as multipart/form-data with a part named "file"' },
  FST_REQ_FILE_TOO_LARGE: { code: 'invalid_file_size', status: 413 },
};

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof FtError) return sendError(reply, err);
    if (err instanceof StoreUnavailableError) {
      req.log.warn({ err }, 'database unavailable');
      const message = err.outcomeUnknown
        ? 'the connection to the database was lost while the change was being committed: it may or may not have been made; read before repeating it'
        : 'the database is unavailable (restarting or unreachable); nothing was changed';
      return sendError(reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S)), new FtError('database_unavailable', message));
    }
    if (err.validation) {
      const where = err.validationContext === 'querystring' ? 'the query string' : err.validationContext === 'params' ? 'the path' : 'the request body';
      return sendError(reply, fromValidation(err.validation as never, where));
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) return sendError(reply, new FtError(known.code, known.message ?? err.message).withStatus(known.status));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, new FtError('invalid_parameter', err.message).withStatus(err.statusCode));
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, new FtError('internal_error', 'internal error; the error_uid identifies it in the server log'));
  });
}

/** Unknown routes: 404 in the envelope, after `preHandler` (the key check for versioned paths). */
export function installNotFound(app: FastifyInstance, preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void>): void {
  app.setNotFoundHandler({ preHandler }, (req, reply) => sendError(reply, new FtError('not_found', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`)));
}
