/**
 * The error catalogue: every error the service can answer with and a default suggestion. Codes are
 * lower_snake_case (docs/errors.md). The HTTP status of each code is chosen at the edge only, in
 * src/api/http-status.ts; an error says at most in which context it arose (ErrorContext).
 */
export const ERROR_CATALOGUE = {
  missing_parameter: { suggestion: 'Add the missing field and retry.' },
  invalid_parameter: { suggestion: 'Fix the value as the message says and retry.' },
  invalid_json: { suggestion: 'Send a well-formed JSON body.' },
  invalid_dataset: { suggestion: 'Fix the dataset file named in the message, upload it again and retry.' },
  model_not_found: { suggestion: 'Use one of the model ids listed by GET /v0.5/fine-tune/models.' },
  file_not_found: { suggestion: 'Upload the file first, or check the file id.' },
  job_not_found: { suggestion: 'Check the job id; jobs are visible only to their organization.' },
  checkpoint_not_found: { suggestion: 'List the job checkpoints to find a valid id.' },
  not_found: { suggestion: 'Check the path.' },
  pipeline_not_found: { suggestion: 'Use a batch pipeline ftnode serves: machine-state-classification (docs/batch.md).' },
  job_already_exists: { suggestion: 'Use another id, or repeat the original request body exactly.' },
  invalid_state_transition: { suggestion: 'Read the job status first; see docs/lifecycle.md.' },
  file_already_exists: { suggestion: 'The file is already uploaded; use another name or delete it first.' },
  invalid_file_size: { suggestion: 'Upload a smaller file, or use a direct (multipart) upload.' },
  invalid_file_type: { suggestion: 'Use a supported content type.' },
  upload_not_found: { suggestion: 'Check the upload_id; start a new upload with POST /v0.5/files/uploads/initiate.' },
  checksum_mismatch: { suggestion: 'The assembled bytes differ from the file: upload the parts again (resume_if_started) and complete.' },
  invalid_request: { suggestion: 'The HTTP request itself is malformed (URL encoding, Content-Length, Transfer-Encoding); send a well-formed request.' },
  uri_too_long: { suggestion: 'Shorten the path: ids are at most 64 characters, file names at most 255 bytes.' },
  headers_too_large: { suggestion: 'Send request headers under 16 KB in total.' },
  request_timeout: { suggestion: 'Send the request (headers and body) without long pauses, and retry.' },
  unauthorized: { suggestion: 'Send Authorization: Bearer <api key>.' },
  rate_limited: { suggestion: 'Retry after the number of seconds in Retry-After.' },
  prediction_unavailable: { suggestion: 'Wait until the job has a committed checkpoint.' },
  internal_error: { suggestion: 'Retry later; if it persists, report the error_uid.' },
  database_unavailable: { suggestion: 'Retry after the number of seconds in Retry-After; the database is restarting or unreachable.' },
  storage_unavailable: { suggestion: 'Retry after the number of seconds in Retry-After (for a direct upload, PUT the part again); the object store failed or is unreachable.' },
} as const satisfies Record<string, { suggestion: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  suggestion?: string;
}

/**
 * Where a problem arose, when that rather than its code decides how the edge answers:
 * - `request`: the problems are in what the request names (an unknown file id in a create body is the
 *   request's fault, not a missing resource at the URL);
 * - `permission`: a credential was understood but does not allow this (an expired or forged signed URL).
 */
export type ErrorContext = 'request' | 'permission';

/** A domain error carrying one or more catalogue entries (validation reports all problems at once). */
export class FtError extends Error {
  readonly details: ErrorDetail[];
  context?: ErrorContext;
  constructor(code: ErrorCode, message: string, more: ErrorDetail[] = []) {
    super(message);
    this.details = [{ code, message }, ...more];
  }
  /** Marks where the problem arose (see ErrorContext); returns the error, for `throw e.in('request')`. */
  in(context: ErrorContext): this {
    this.context = context;
    return this;
  }
  get code(): ErrorCode {
    return this.details[0]!.code;
  }
  static many(details: ErrorDetail[]): FtError {
    const [first, ...rest] = details;
    return new FtError(first!.code, first!.message, rest);
  }
}
