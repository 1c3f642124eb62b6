/**
 * The Store on embedded SQLite (better-sqlite3): the query modules of ./queries bound to one
 * connection. Every query is one synchronous transaction, so each use-case is atomic; BEGIN
 * IMMEDIATE takes the write lock up front, so two writers never interleave a read-then-write.
 * The lifecycle decisions (status guards, lost attempts, events) come from ../policy.ts.
 */
import { systemClock, type Clock } from '../../lib/clock.js';
import { bindQueries, type Bound } from '../bind.js';
import type { Store } from '../store.js';
import { migrateSqlite, openSqlite, type Db } from './db.js';
import * as attempts from './queries/attempts.js';
import * as events from './queries/events.js';
import * as files from './queries/files.js';
import * as jobs from './queries/jobs.js';
import * as keys from './queries/keys.js';
import * as tokens from './queries/tokens.js';
import * as uploads from './queries/uploads.js';
import * as workers from './queries/workers.js';

const QUERIES = { ...keys, ...files, ...jobs, ...attempts, ...events, ...uploads, ...tokens, ...workers };

// Interface merging: the bound queries are SqliteStore's methods (assigned in the constructor).
export interface SqliteStore extends Bound<Db, typeof QUERIES> {}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;

  /** `clock` stamps the migrations it applies (the only time the store reads itself; methods take `now`). */
  static open(file: string, clock: Clock = systemClock): SqliteStore {
    return new SqliteStore(openSqlite(file), clock);
  }

  constructor(readonly db: Db, private readonly clock: Clock = systemClock) {
    Object.assign(this, bindQueries(db, QUERIES));
  }

  async migrate(): Promise<void> {
    migrateSqlite(this.db, this.clock.now());
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
