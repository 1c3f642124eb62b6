/**
 * Server-sent events over fetch (EventSource cannot send an Authorization header): `parseSse` turns a
 * response body into messages, `followJob` reads a job's live stream (`GET …/events` with
 * `Accept: text/event-stream`) and reconnects with Last-Event-ID when the connection drops before the
 * job is terminal, so no event is lost or repeated; it keeps trying with backoff for `reconnectForMs`
 * (default 2 minutes: a server restart takes tens of seconds) and then throws `stream_lost`. The
 * server ends the stream after the terminal `status` message, which is the last thing `followJob` yields.
 */
import { ApiError } from './errors.js';
import { ROUTES, type Route } from './routes.js';
import { isTerminalStatus, type Job, type JobEvent } from './types.js';

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** What the followers need of an FtClient, named structurally so this module does not import
 * client.ts (which imports it: no import cycle). */
export interface StreamClient {
  url(route: Route, params?: Record<string, string>): string;
  authHeaders(): Record<string, string>;
  fetchOk(url: string, init: RequestInit): Promise<Response>;
}

export type JobStreamMessage = { kind: 'status'; job: Job } | { kind: 'event'; event: JobEvent };

export interface FollowOptions {
  signal?: AbortSignal;
  /** Resume after this event seq (the SSE id). */
  lastEventId?: string;
  /**
   * How long to keep reconnecting after the stream was lost without receiving anything (default
   * 120 000 ms: a server restart, a database failover or a proxy reload takes tens of seconds).
   * Spent → ApiError `stream_lost`. A first connection that fails is `connection_failed` at once.
   */
  reconnectForMs?: number;
  /** Called on each reconnect attempt (attempt counts from 1 within one outage), e.g. to say so on stderr. */
  onReconnect?: (attempt: number, cause: string) => void;
  /** Clock for the reconnect budget (tests); default Date.now. */
  now?: () => number;
}

/** Backoff between reconnects: 250 ms doubling to at most 5 s (so about 25 tries in the default 2 minutes). */
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5000;
export const DEFAULT_RECONNECT_FOR_MS = 120_000;

export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const m = parseBlock(block);
        if (m) yield m;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}

function parseBlock(block: string): SseMessage | null {
  const m: SseMessage = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue; // comment (keepalive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') m.event = value;
    else if (field === 'id') m.id = value;
  }
  if (data.length === 0) return null;
  m.data = data.join('\n');
  return m;
}

export async function* followJob(client: StreamClient, jobId: string, o: FollowOptions = {}): AsyncGenerator<JobStreamMessage> {
  let lastId = o.lastEventId;
  const now = o.now ?? Date.now;
  const budget = o.reconnectForMs ?? DEFAULT_RECONNECT_FOR_MS;
  let connected = false; // ever: a first refusal is a wrong endpoint, not an outage
  let lostSince: number | null = null;
  let attempt = 0;
  for (;;) {
    let cause = 'the server closed the stream before the job ended';
    try {
      const headers: Record<string, string> = { ...client.authHeaders(), accept: 'text/event-stream' };
      if (lastId) headers['last-event-id'] = lastId;
      const res = await client.fetchOk(client.url(ROUTES.jobEvents, { job_id: jobId }), { headers, signal: o.signal });
      if (!res.body) throw ApiError.local('stream_failed', 'the event stream has no body');
      connected = true;
      for await (const m of parseSse(res.body)) {
        lostSince = null;
        attempt = 0;
        if (m.event === 'status') {
          const job = JSON.parse(m.data) as Job;
          yield { kind: 'status', job };
          if (isTerminalStatus(job.status)) return;
        } else {
          if (m.id) lastId = m.id;
          yield { kind: 'event', event: JSON.parse(m.data) as JobEvent };
        }
      }
    } catch (err) {
      // A refusal (401, 404) is final; a dropped or refused connection is retried below.
      if (o.signal?.aborted || (err instanceof ApiError && err.status !== 0 && err.status < 500) || !(err instanceof ApiError || err instanceof TypeError)) throw err;
      if (!connected) throw err;
      cause = err instanceof ApiError ? err.message : String((err as Error)?.message ?? err);
    }
    lostSince ??= now();
    if (now() - lostSince >= budget) {
      throw ApiError.local('stream_lost', `lost the event stream of job ${jobId} for ${Math.round((now() - lostSince) / 1000)} s (${cause}); the job may still be running`);
    }
    attempt++;
    o.onReconnect?.(attempt, cause);
    await backoff(Math.min(BACKOFF_FIRST_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS), o.signal);
  }
}

function backoff(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}

/**
 * The org's job status changes, live (`GET /v0.5/fine-tune/jobs` with `Accept: text/event-stream`):
 * yields each changed job; reconnects after a dropped connection (callers reload their list then, as
 * changes during the gap are not replayed).
 */
export async function* followJobs(client: StreamClient, o: { signal?: AbortSignal } = {}): AsyncGenerator<Job | 'reconnected'> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await client.fetchOk(client.url(ROUTES.listJobs, {}), { headers: { ...client.authHeaders(), accept: 'text/event-stream' }, signal: o.signal });
      if (!res.body) throw ApiError.local('stream_failed', 'the jobs stream has no body');
      if (attempt > 0) yield 'reconnected';
      for await (const m of parseSse(res.body)) if (m.event === 'job') yield JSON.parse(m.data) as Job;
    } catch (err) {
      if (o.signal?.aborted || (err instanceof ApiError && err.status !== 0) || !(err instanceof ApiError || err instanceof TypeError)) throw err;
    }
    await backoff(Math.min(250 * 2 ** Math.min(attempt, 5), 5000), o.signal);
  }
}
