/**
 * Failures of the deployment rather than of the request, which the HTTP edge answers with 503 and
 * Retry-After: the database (StoreUnavailableError) and the object store (BlobStoreUnavailableError).
 *
 * The database could not be reached (down, restarting, every connection refused or lost) after the
 * store's own retries: a condition of the deployment, not of the request. Stores throw it; the HTTP
 * edge answers 503 `database_unavailable` with Retry-After, which remote workers retry like any 503.
 * `outcomeUnknown`: the connection broke while a COMMIT was in flight, so the write may have happened
 * (read before repeating it; idempotent creates and fenced worker writes are safe to repeat).
 */
export class StoreUnavailableError extends Error {
  readonly outcomeUnknown: boolean;
  constructor(message: string, options: { cause?: unknown; outcomeUnknown?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StoreUnavailableError';
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/**
 * The object store failed while a request's body streamed into it (S3 reset the connection, or
 * answered 5xx): the request was fine and nothing was recorded, so the HTTP edge answers 503
 * `storage_unavailable` with Retry-After. Without it, the request stream that the failed pipeline
 * destroyed, with S3's ECONNRESET as the error, read as the client hanging up (a 400).
 */
export class BlobStoreUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`object storage: ${operation} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BlobStoreUnavailableError';
  }
}
