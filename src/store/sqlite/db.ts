/**
 * Opening an embedded SQLite database: WAL (readers never block the single writer), a 5 s busy
 * timeout (a second process such as `ftnode keys create` may write while the server runs), and the
 * numbered migrations applied in one transaction each.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Migration } from '../migration-files.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export function openSqlite(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across process crashes, not power loss
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  memoizePrepare(db);
  return db;
}

/**
 * better-sqlite3 compiles the SQL again on every prepare() call: 16% of a GET's server CPU in the
 * read benchmark (docs/benchmarks-core.md). Statements are cached by their text; the store never
 * iterates a statement or switches it to pluck/raw mode, so sharing one per text is safe, and SQL
 * built at run time (an IN list of n placeholders) adds at most a handful of entries.
 */
function memoizePrepare(db: Db): void {
  const cache = new Map<string, Database.Statement>();
  const prepare = db.prepare.bind(db);
  (db as unknown as { prepare: (sql: string) => Database.Statement }).prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) cache.set(sql, (stmt = prepare(sql)));
    return stmt;
  };
}

/** Applies the pending migrations (default: all of ./migrations), one IMMEDIATE transaction each. */
export function migrateSqlite(db: Db, now: number, migrations: readonly Migration[] = SQLITE_MIGRATIONS): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, now);
    }).immediate();
  }
}
