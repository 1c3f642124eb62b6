/**
 * The remote worker's HTTP transport to the worker API (fetch, i.e. undici): bearer token, JSON
 * helpers, and retries. The control plane may restart, or be several replicas: a request that cannot
 * connect (refused, reset, timed out, 502/503/504) is retried with bounded exponential backoff and
 * full jitter (100 ms · 2^n, at most 2 s), moving to the next server URL each time, until the caller's
 * `until()` (a performance.now() time: the attempt's local lease deadline) has passed. Anything else
 * (4xx, 500) is the caller's to handle. A 401 is WorkerAuthError: the token was revoked, stop.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { backoffDelay } from '../lib/backoff.js';

export class WorkerAuthError extends Error {
  override readonly name = 'WorkerAuthError';
}

export class RemoteHttpError extends Error {
  constructor(readonly status: number, readonly text: string) {
    super(`worker API answered ${status}: ${text.slice(0, 500)}`);
  }
}

class Unavailable extends Error {}

const RETRY_STATUS = new Set([502, 503, 504]);
const BACKOFF = { baseMs: 100, maxMs: 2_000 };

export interface RequestOptions {
  method?: string;
  json?: unknown;
  /** A fresh body for each try (a file upload cannot be replayed from a consumed stream). */
  body?: () => Promise<RequestInit['body']> | RequestInit['body'];
  headers?: Record<string, string>;
  /** Retry connection failures until this performance.now() time; absent = until closed. */
  until?: () => number;
  /** Aborts this request (and its retries). */
  signal?: AbortSignal;
  /** Per try; absent = no limit (streams, long uploads). */
  timeoutMs?: number;
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Connection-level failures worth another try: the request may not have reached the server. */
export function isTransient(err: unknown): boolean {
  if (err instanceof Unavailable) return true;
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || SOCKET_CODES.has(e?.code ?? '') || SOCKET_CODES.has(e?.cause?.code ?? '')) return true;
  return e?.name === 'TypeError' && /fetch failed|terminated|other side closed/i.test(e.message ?? '');
}

export class WorkerHttp {
  private index = 0;

  constructor(readonly urls: string[], private readonly token: string, private readonly closed: AbortSignal) {
    if (urls.length === 0) throw new Error('no server URL');
  }

  get base(): string {
    return this.urls[this.index % this.urls.length]!;
  }

  /** `path` under the server's base URL, or an absolute presigned object-store URL (sent as it is: no token, which the store would refuse beside the URL's signature). */
  async fetch(path: string, o: RequestOptions = {}): Promise<Response> {
    const absolute = /^https?:\/\//.test(path);
    for (let attempt = 1; ; attempt++) {
      const signals = [this.closed, ...(o.signal ? [o.signal] : []), ...(o.timeoutMs ? [AbortSignal.timeout(o.timeoutMs)] : [])];
      const headers: Record<string, string> = absolute ? {} : { authorization: `Bearer ${this.token}`, ...o.headers };
      if (o.json !== undefined) headers['content-type'] = 'application/json';
      try {
        const body = o.json !== undefined ? JSON.stringify(o.json) : o.body ? await o.body() : undefined;
        const res = await fetch(absolute ? path : this.base + path, {
          method: o.method ?? (body !== undefined ? 'POST' : 'GET'),
          headers,
          body,
          signal: AbortSignal.any(signals),
        });
        if (res.status === 401) {
          await res.body?.cancel();
          throw new WorkerAuthError('the worker token was refused (revoked, or not a wk_ token of this deployment)');
        }
        if (RETRY_STATUS.has(res.status)) {
          await res.body?.cancel();
          throw new Unavailable(`HTTP ${res.status}`);
        }
        return res;
      } catch (err) {
        if (this.closed.aborted || o.signal?.aborted || !isTransient(err)) throw err;
        this.index++; // the next replica, if there are several
        const delay = backoffDelay(attempt, BACKOFF);
        if (o.until && performance.now() + delay > o.until()) throw err;
        await sleep(delay, this.closed);
      }
    }
  }

  /**
   * POST a streamed body with backpressure (node:http, not fetch: undici's fetch reads a request body
   * stream as fast as the disk gives it and held a 1 GB upload in memory whole). Retried like fetch;
   * `body` makes a fresh stream per try. Answers the status and the response text.
   */
  async upload(path: string, headers: Record<string, string>, body: () => Readable, until: () => number): Promise<{ status: number; text: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.send(new URL(this.base + path), { authorization: `Bearer ${this.token}`, ...headers }, body());
        if (r.status === 401) throw new WorkerAuthError('the worker token was refused (revoked, or not a wk_ token of this deployment)');
        if (RETRY_STATUS.has(r.status)) throw new Unavailable(`HTTP ${r.status}`);
        return r;
      } catch (err) {
        if (this.closed.aborted || !isTransient(err)) throw err;
        this.index++;
        const delay = backoffDelay(attempt, BACKOFF);
        if (performance.now() + delay > until()) throw err;
        await sleep(delay, this.closed);
      }
    }
  }

  private send(url: URL, headers: Record<string, string>, body: Readable): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers, signal: this.closed }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      pipeline(body, req).catch(reject); // a refusal answered before the body was sent ends the pipe early: the answer still resolves
    });
  }

  /** POST `payload` (or GET when undefined) and parse the JSON answer; non-2xx → RemoteHttpError. */
  async json<T>(path: string, payload?: unknown, o: RequestOptions = {}): Promise<T> {
    const res = await this.fetch(path, { ...o, ...(payload !== undefined ? { json: payload } : {}) });
    if (!res.ok) throw new RemoteHttpError(res.status, await res.text());
    return (await res.json()) as T;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
