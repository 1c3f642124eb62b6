/**
 * The error catalogue: every error the service can answer with, its HTTP status (chosen here once,
 * used only by the HTTP edge) and a default suggestion. Codes are lower_snake_case (contract §1).
 */
export const ERROR_CATALOGUE = {
  missing_parameter: { http: 400, suggestion: 'Add the missing field and retry.' },
  invalid_parameter: { http: 400, suggestion: 'Fix the value as the message says and retry.' },
  invalid_json: { http: 400, suggestion: 'Send a well-formed JSON body.' },
  invalid_dataset: { http: 400, suggestion: 'Fix the dataset file named in the message, upload it again and retry.' },
  model_not_found: { http: 400, suggestion: 'Use one of the model ids listed by GET /v0.5/fine-tune/models.' },
  file_not_found: { http: 404, suggestion: 'Upload the file first, or check the file id.' },
  job_not_found: { http: 404, suggestion: 'Check the job id; jobs are visible only to their organization.' },
  checkpoint_not_found: { http: 404, suggestion: 'List the job checkpoints to find a valid id.' },
  not_found: { http: 404, suggestion: 'Check the path.' },
  pipeline_not_found: { http: 404, suggestion: 'Use a batch pipeline ftnode serves: machine-state-classification (docs/batch.md).' },
  job_already_exists: { http: 409, suggestion: 'Use another id, or repeat the original request body exactly.' },
  invalid_state_transition: { http: 409, suggestion: 'Read the job status first; see docs/lifecycle.md.' },
  file_already_exists: { http: 409, suggestion: 'The file is already uploaded; use another name or delete it first.' },
  invalid_file_size: { http: 413, suggestion: 'Upload a smaller file, or use a direct (multipart) upload.' },
  invalid_file_type: { http: 400, suggestion: 'Use a supported content type.' },
  upload_not_found: { http: 404, suggestion: 'Check the upload_id; start a new upload with POST /v0.5/files/uploads/initiate.' },
  checksum_mismatch: { http: 400, suggestion: 'The assembled bytes differ from the file: upload the parts again (resume_if_started) and complete.' },
  invalid_request: { http: 400, suggestion: 'The HTTP request itself is malformed (URL encoding, Content-Length, Transfer-Encoding); send a well-formed request.' },
  uri_too_long: { http: 414, suggestion: 'Shorten the path: ids are at most 64 characters, file names at most 255 bytes.' },
  headers_too_large: { http: 431, suggestion: 'Send request headers under 16 KB in total.' },
  request_timeout: { http: 408, suggestion: 'Send the request (headers and body) without long pauses, and retry.' },
  unauthorized: { http: 401, suggestion: 'Send Authorization: Bearer <api key>.' },
  rate_limited: { http: 429, suggestion: 'Retry after the number of seconds in Retry-After.' },
  prediction_unavailable: { http: 409, suggestion: 'Wait until the job has a committed checkpoint.' },
  internal_error: { http: 500, suggestion: 'Retry later; if it persists, report the error_uid.' },
  database_unavailable: { http: 503, suggestion: 'Retry after the number of seconds in Retry-After; the database is restarting or unreachable.' },
} as const satisfies Record<string, { http: number; suggestion: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  suggestion?: string;
}

/** A domain error carrying one or more catalogue entries (validation reports all problems at once). */
export class FtError extends Error {
  readonly details: ErrorDetail[];
  /** Overrides the catalogue status where the context decides (an unknown file id in a create body is a 400). */
  httpStatus?: number;
  constructor(code: ErrorCode, message: string, more: ErrorDetail[] = []) {
    super(message);
    this.details = [{ code, message }, ...more];
  }
  withStatus(status: number): this {
    this.httpStatus = status;
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

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].http;
}
