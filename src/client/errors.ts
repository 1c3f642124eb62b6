/**
 * ApiError: what every failed call throws. It carries the HTTP status and the server's `errors[]`
 * envelope as received (docs/spec.md#wire-conventions); answers that are not an envelope (a proxy's HTML page, a legacy
 * `{detail}` body) and failures to connect are turned into one synthetic entry so callers only ever
 * read `errors[0].code`. Status 0 means the server was not reached.
 */
import type { WireError } from './types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly errors: WireError[];

  constructor(status: number, errors: WireError[]) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors.length > 0 ? errors : [synthetic(`http_${status}`, `HTTP ${status}`)];
  }

  /** The first error's code: `job_not_found`, `unauthorized`, `connection_failed`… */
  get code(): string {
    return this.errors[0]!.code;
  }

  /** `error <code>: <message>` on one line: several problems are joined with "; ". */
  line(): string {
    const extra = this.errors.slice(1).map((e) => (e.code === this.code ? e.message : `${e.code}: ${e.message}`));
    return `error ${this.code}: ${[this.errors[0]!.message, ...extra].join('; ')}`.replace(/\s*\n\s*/g, ' ');
  }

  static async fromResponse(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text as the message
    }
    const b = body as { errors?: unknown; detail?: unknown } | null;
    if (b && Array.isArray(b.errors) && b.errors.every((e) => e && typeof (e as WireError).code === 'string')) {
      return new ApiError(res.status, b.errors as WireError[]);
    }
    const message = b && typeof b.detail === 'string' ? b.detail : text.trim().slice(0, 300) || res.statusText || `HTTP ${res.status}`;
    return new ApiError(res.status, [synthetic(`http_${res.status}`, message)]);
  }

  static connection(url: string, cause: unknown): ApiError {
    const c = cause as { message?: string; cause?: { code?: string; message?: string } };
    const why = c?.cause?.code ?? c?.cause?.message ?? c?.message ?? String(cause);
    return new ApiError(0, [synthetic('connection_failed', `cannot reach ${url}: ${why}`)]);
  }

  /** A failure found by the client itself (checksum mismatch, missing argument). */
  static local(code: string, message: string): ApiError {
    return new ApiError(0, [synthetic(code, message)]);
  }
}

function synthetic(code: string, message: string): WireError {
  return { code, message, suggestion: '', error_uid: '' };
}
