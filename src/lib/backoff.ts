/**
 * Bounded exponential backoff with full jitter, and a retry loop built on it. Generic: the caller
 * says which errors are worth another try. Invariants: at most `attempts` calls of `fn`; the delay
 * before try n+1 is uniform in [0, min(maxMs, baseMs·2^n)) ("full jitter", so replicas that failed
 * together do not retry together); a non-retryable error, or the last one, propagates unchanged.
 */

export interface BackoffOptions {
  /** Total tries, the first included. 5 tries ≈ at most 20+40+80+160 = 300 ms of waiting by default. */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** Injected for tests: [0, 1). */
  random?: () => number;
  /** Injected for tests; the default really waits (retries wait on the network, not on the domain clock). */
  sleep?: (ms: number) => Promise<void>;
}

export interface RetryOptions extends BackoffOptions {
  /** Whether another try may succeed; `attempt` is the 1-based try that failed. */
  retryable: (err: unknown, attempt: number) => boolean;
  /** Told before each wait, e.g. to log or count retries. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const DEFAULT_BACKOFF = { attempts: 5, baseMs: 20, maxMs: 1_000 } as const;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before try `attempt + 1`, after `attempt` (1-based) failures. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const cap = o.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.floor((o.random ?? Math.random)() * ceiling);
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const attempts = Math.max(1, o.attempts ?? DEFAULT_BACKOFF.attempts);
  const sleep = o.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !o.retryable(err, attempt)) throw err;
      const delay = backoffDelay(attempt, o);
      o.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
