/**
 * Which PostgreSQL failures are worth another try, by SQLSTATE (the `code` pg puts on server errors)
 * or, for a socket that died before the server could say anything, by the driver's error.
 * Invariant: only errors after which the transaction certainly did not commit are retryable here;
 * the transaction runner (pg-db.ts) additionally never retries a connection loss during COMMIT,
 * whose outcome is unknown. A connection error that outlasts the retries leaves the store as
 * StoreUnavailableError (src/domain/unavailable.ts), which the HTTP edge answers with 503.
 */
import { FtError } from '../../domain/errors.js';
import { StoreUnavailableError } from '../../domain/unavailable.js';

/** 40001 serialization_failure, 40P01 deadlock_detected: the server rolled the transaction back. */
const ROLLED_BACK = new Set(['40001', '40P01']);
/**
 * 57P01 admin_shutdown (pg_terminate_backend, fast shutdown), 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (server starting or in recovery).
 */
const SERVER_GOING_AWAY = new Set(['57P01', '57P02', '57P03']);
/** Node socket errors: the connection broke or could not be made. */
const SOCKET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** pg reports a socket closed under it with these messages and no code. */
const DRIVER_MESSAGES = [/^Connection terminated/, /not queryable/, /^Client was closed/];

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** A broken connection (class 08, server going away, socket errors): the client must be discarded. */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) return code.startsWith('08') || SERVER_GOING_AWAY.has(code) || SOCKET.has(code);
  const msg = err instanceof Error ? err.message : '';
  return DRIVER_MESSAGES.some((re) => re.test(msg));
}

/** Another try, on a fresh transaction (and a fresh connection after a connection error), may succeed. */
export function isRetryable(err: unknown): boolean {
  const code = codeOf(err);
  return (code !== undefined && ROLLED_BACK.has(code)) || isConnectionError(err);
}

/** The connection broke while COMMIT was in flight: the transaction may or may not have committed. */
export class CommitOutcomeUnknownError extends StoreUnavailableError {
  constructor(cause: unknown) {
    super(`postgres: connection lost during COMMIT, outcome unknown (${messageOf(cause)})`, { cause, outcomeUnknown: true });
    this.name = 'CommitOutcomeUnknownError';
  }
}

/** A connection error that outlasted the retries: the database is down or unreachable; nothing was committed. */
export function unavailable(cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`postgres: database unavailable (${messageOf(cause)})`, { cause });
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return messageOf(err.errors[0]); // connect() to several addresses
  const e = err as { message?: unknown; code?: unknown } | null;
  const msg = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return typeof e?.code === 'string' && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

/**
 * 22021 character_not_in_repertoire ("invalid byte sequence for encoding UTF8: 0x00"), 22P05
 * untranslatable_character (`\u0000` in jsonb): PostgreSQL text cannot hold NUL, which SQLite stores
 * (and JavaScript strings carry). A NUL in an id or a body string was a 500; it is the client's
 * value that cannot be stored or matched: 400 `invalid_parameter` (found by the route fuzzer, docs/testing.md).
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

export function unstorableText(err: unknown): FtError | null {
  const code = codeOf(err);
  if (code === undefined || !UNSTORABLE_TEXT.has(code)) return null;
  return new FtError('invalid_parameter', 'a value holds a NUL character (\\u0000), which cannot be stored or looked up: remove it');
}
