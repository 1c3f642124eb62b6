/**
 * The HTTP status of every answer, chosen here and nowhere else: one status per catalogue code (a
 * complete Record, so a new code does not compile until it has one), one per ErrorContext (the context
 * wins over the code: an unknown file id named in a create body is a 400, not the 404 of a missing
 * file at its own URL), and the statuses the HTTP edge decides itself (a framework refusal, a 416
 * range) set with withHttpStatus. docs/errors.md lists the same table; test/docs.test.ts compares them.
 */
import type { ErrorCode, ErrorContext, FtError } from '../domain/errors.js';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  missing_parameter: 400,
  invalid_parameter: 400,
  invalid_json: 400,
  invalid_dataset: 400,
  model_not_found: 400,
  file_not_found: 404,
  job_not_found: 404,
  checkpoint_not_found: 404,
  not_found: 404,
  pipeline_not_found: 404,
  job_already_exists: 409,
  invalid_state_transition: 409,
  file_already_exists: 409,
  invalid_file_size: 413,
  invalid_file_type: 400,
  upload_not_found: 404,
  checksum_mismatch: 400,
  invalid_request: 400,
  uri_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  unauthorized: 401,
  rate_limited: 429,
  prediction_unavailable: 409,
  internal_error: 500,
  database_unavailable: 503,
  storage_unavailable: 503,
};

export const CONTEXT_STATUS: Readonly<Record<ErrorContext, number>> = {
  request: 400,
  permission: 403,
};

const chosenAtEdge = new WeakMap<FtError, number>();

/** An answer whose status the HTTP edge decided from the request itself; returns the error. */
export function withHttpStatus<E extends FtError>(err: E, status: number): E {
  chosenAtEdge.set(err, status);
  return err;
}

/** The status to answer `err` with: the edge's own choice, else its context's, else its code's. */
export function statusOf(err: FtError): number {
  return chosenAtEdge.get(err) ?? (err.context ? CONTEXT_STATUS[err.context] : HTTP_STATUS[err.code]);
}
