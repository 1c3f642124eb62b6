/**
 * The Store on PostgreSQL (pg 8): same semantics as SqliteStore, for several replicas sharing one
 * database; the query modules of ./queries bound to one pool. Every use-case is one transaction
 * (pg-db.ts retries it as a whole on serialization failures, deadlocks and lost connections). Where
 * SQLite relies on its single writer, the queries lock: job rows for status writes (the CAS UPDATE),
 * advisory locks per file name and per org for file versions, per job for event numbers
 * (queries/steps.ts). The lifecycle decisions come from ../policy.ts.
 * Wake-ups: NOTIFY `ftnode_work` (job queued) and `ftnode_job` (status changed) at commit; `subscribe`.
 */
import { systemClock, type Clock } from '../../lib/clock.js';
import { bindQueries, type Bound } from '../bind.js';
import type { Store } from '../store.js';
import { PgListener, type NotifyHandler } from './listener.js';
import { migratePg } from './migrations.js';
import { PgDb, type PgOptions } from './pg-db.js';
import * as attempts from './queries/attempts.js';
import * as events from './queries/events.js';
import * as files from './queries/files.js';
import * as jobs from './queries/jobs.js';
import * as keys from './queries/keys.js';
import type { Channel } from './queries/steps.js';
import * as tokens from './queries/tokens.js';
import * as uploads from './queries/uploads.js';
import * as workers from './queries/workers.js';

export interface PostgresStoreOptions extends PgOptions {
  clock?: Clock; // stamps schema_migrations.applied_at only; use-cases get `now` from their callers
}

const QUERIES = { ...keys, ...files, ...jobs, ...attempts, ...events, ...uploads, ...tokens, ...workers };

// Interface merging: the bound queries are PostgresStore's methods (assigned in the constructor).
export interface PostgresStore extends Bound<PgDb, typeof QUERIES> {}

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  private readonly listener: PgListener;

  /** Opens a pool on `url`; nothing connects until the first call (migrate() creates the schema). */
  static open(url: string, opts: PostgresStoreOptions = {}): PostgresStore {
    return new PostgresStore(new PgDb(url, opts), opts.clock ?? systemClock);
  }

  constructor(readonly db: PgDb, private readonly clock: Clock = systemClock) {
    Object.assign(this, bindQueries(db, QUERIES));
    this.listener = new PgListener({ ...db.clientConfig(), application_name: `${db.opts.applicationName ?? 'ftnode'}:listen` }, db.opts.onError);
  }

  async migrate(): Promise<void> {
    await migratePg(this.db, this.clock.now());
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.db.close();
  }

  /**
   * Wake-ups from any replica: `ftnode_work` gets the uuid of a job that became REGISTERED (create,
   * requeue), `ftnode_job` the uuid of a job whose status changed; both get '' after a reconnect
   * (re-check everything). Resolves once listening; the returned function unsubscribes.
   */
  subscribe(channel: Channel, fn: NotifyHandler): Promise<() => void> {
    return this.listener.subscribe(this.db.channel(channel), fn);
  }
}
