/**
 * The PostgreSQL connection layer: a pg.Pool (10 connections by default), the schema every pooled
 * connection uses (search_path set on connect), the type parsers the shared row mapping expects
 * (jsonb/json as text, int8 as number), and the one transaction runner every use-case goes through.
 * Invariants: each `tx` is one BEGIN…COMMIT on one connection; a retryable failure (errors.ts) reruns
 * the whole function on a fresh transaction with bounded backoff; a connection lost during COMMIT is
 * never retried (the commit may have happened); a connection that broke is destroyed, never reused;
 * a database still unreachable after the last try is a StoreUnavailableError (the HTTP edge: 503); a
 * text value PostgreSQL cannot hold (NUL) is the client's 400 (errors.ts).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_BACKOFF, retry, type BackoffOptions } from '../../lib/backoff.js';
import { CommitOutcomeUnknownError, isConnectionError, isRetryable, unavailable, unstorableText } from './errors.js';

export type Row = Record<string, unknown>;
export type Q = pg.PoolClient;

/** Two-key advisory lock namespaces (first key); the second key is a hashtext() of what is locked. */
export const LOCK_NS = { migrate: 0x66746e01, fileIndex: 0x66746e02, eventSeq: 0x66746e03, fileName: 0x66746e04 } as const;

export interface PgOptions {
  /** Schema for every table (created by migrate); default: the server's search_path (public). */
  schema?: string;
  /** Pool size; 10 = a few concurrent requests + workers' heartbeats per replica, well under max_connections (100). */
  poolSize?: number;
  applicationName?: string;
  retry?: BackoffOptions & { onRetry?: (err: unknown, attempt: number, delayMs: number) => void };
  /** Errors nobody awaits: an idle pooled connection or the LISTEN connection broke. */
  onError?: (err: unknown) => void;
}

const OID = { int8: 20, json: 114, jsonb: 3802 } as const;

/** rows.ts JSON.parses strings and Number()s counters: keep json (and jsonb) as text; int8 holds ms times < 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === OID.json || oid === OID.jsonb) return (v: string) => v;
    if (oid === OID.int8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Prepared-statement names by SQL text: the name must be unique per text on a connection, so it is a hash of it. */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `ft_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    if (statementNames.size < 10_000) statementNames.set(sql, name); // bounded: SQL texts are fixed in code, a few hundred
  }
  return name;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,47}$/; // ≤ 48 so "<schema>.ftnode_work" fits NOTIFY's 63-byte channel names

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export const one = (r: pg.QueryResult): Row | null => (r.rows[0] as Row | undefined) ?? null;

export class PgDb {
  readonly pool: pg.Pool;
  readonly schema: string | null;
  private closed = false;
  private readonly broken = new WeakSet<Q>(); // connections whose ROLLBACK failed: state unknown
  private readonly setup = new WeakMap<object, Promise<unknown>>(); // per connection: its SET search_path

  constructor(readonly url: string, readonly opts: PgOptions = {}) {
    if (opts.schema !== undefined && !SCHEMA_RE.test(opts.schema)) throw new Error(`postgres: invalid schema name '${opts.schema}' (lower-case identifier, ≤ 48 characters)`);
    this.schema = opts.schema ?? null;
    this.pool = new pg.Pool({ ...this.clientConfig(), max: opts.poolSize ?? 10 });
    // Issued on connect; every checkout awaits it, and a connection whose SET failed is destroyed, so no
    // query ever runs against the wrong schema.
    if (this.schema) {
      const set = `SET search_path TO ${quoteIdent(this.schema)}`;
      this.pool.on('connect', (c) => {
        const done = c.query(set);
        done.catch(() => undefined); // surfaced by the checkout that awaits it
        this.setup.set(c, done);
      });
    }
    this.pool.on('error', (err) => this.report(err)); // an idle connection died; the pool already dropped it
  }

  /** Settings for a connection outside the pool (the LISTEN client). */
  clientConfig(): pg.ClientConfig {
    return { connectionString: this.url, application_name: this.opts.applicationName ?? 'ftnode', types };
  }

  /** The physical NOTIFY channel for a logical one: schemas sharing a database do not wake each other. */
  channel(name: string): string {
    return this.schema ? `${this.schema}.${name}` : name;
  }

  /** Runs `fn` in one transaction, retried as a whole on retryable errors. */
  async tx<T>(fn: (c: Q) => Promise<T>): Promise<T> {
    return this.withRetry(() => this.checkout(async (c) => {
      await c.query('BEGIN');
      let committing = false;
      try {
        const out = await fn(c);
        committing = true;
        await c.query('COMMIT');
        return out;
      } catch (err) {
        if (committing && isConnectionError(err)) throw new CommitOutcomeUnknownError(err);
        if (!isConnectionError(err)) await c.query('ROLLBACK').catch(() => this.broken.add(c));
        throw err;
      }
    }));
  }

  /**
   * One read-only statement outside a transaction: safe to retry, it changes nothing. Sent as a named
   * prepared statement: each pooled connection parses and plans it once, later calls only bind and
   * execute (the PostgreSQL server shares the replica's cores; docs/benchmarks-core.md has the figures).
   */
  async read(sql: string, params: unknown[] = []): Promise<Row[]> {
    const name = statementName(sql);
    return this.withRetry(() => this.checkout(async (c) => (await c.query({ name, text: sql, values: params })).rows as Row[]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** A connection error still there after the last try leaves as StoreUnavailableError (HTTP 503). */
  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.opts.retry ?? {};
    try {
      return await retry(fn, { ...DEFAULT_BACKOFF, ...r, retryable: (err) => !this.closed && isRetryable(err) });
    } catch (err) {
      throw isConnectionError(err) ? unavailable(err) : (unstorableText(err) ?? err);
    }
  }

  /** A pooled connection for `fn`; destroyed instead of returned when it broke. */
  private async checkout<T>(fn: (c: Q) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    // pg emits 'error' on a checked-out client whose socket dies; without a listener that would crash
    // the process. The pending query rejects with the same failure, so there is nothing more to do here.
    const onSocketError = (): void => undefined;
    c.on('error', onSocketError);
    let broken = false;
    try {
      await this.setup.get(c)?.catch((err: unknown) => {
        broken = true;
        throw err;
      });
      return await fn(c);
    } catch (err) {
      broken ||= isConnectionError(err) || err instanceof CommitOutcomeUnknownError || this.broken.has(c);
      throw err;
    } finally {
      c.removeListener('error', onSocketError);
      c.release(broken);
    }
  }

  private report(err: unknown): void {
    this.opts.onError?.(err);
  }
}
