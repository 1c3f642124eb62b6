/**
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
