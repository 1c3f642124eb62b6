/**
 * PostgreSQL schema, as numbered append-only migrations in ./migrations/NNNN_name.sql (the same
 * numbers and meaning as the SQLite ones in ../sqlite/migrations/; loaded by ../migration-files.ts),
 * and the runner. Times are BIGINT milliseconds from the injected
 * clock; booleans are BOOLEAN; JSON columns are `json`, not jsonb: json keeps the text as written
 * (object key order, like SQLite's TEXT, so both dialects answer byte-identical JSON) and accepts
 * \u0000 escapes (a binary CSV's sniffed header has them; jsonb refuses them with 22P05). Nothing
 * queries inside these columns, so jsonb's operators and indexes buy nothing here.
 * Never edit a shipped migration: add the next number (and regenerate schema.sql).
 * Invariant: safe from several replicas at once. Each migration runs in its own transaction that first
 * takes pg_advisory_xact_lock(LOCK_NS.migrate, hashtext(schema)) and only then reads the applied
 * versions, so a replica that waited sees what the other applied and applies nothing twice.
 */
import { loadMigrations, type Migration } from '../migration-files.js';
import { LOCK_NS, quoteIdent, type PgDb } from './pg-db.js';

export const PG_MIGRATIONS: readonly Migration[] = loadMigrations('postgres');

/** Applies the pending migrations, one transaction each; returns the versions this call applied. */
export async function migratePg(db: PgDb, now: number, migrations: readonly Migration[] = PG_MIGRATIONS): Promise<number[]> {
  const applied: number[] = [];
  for (;;) {
    const version = await db.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NS.migrate, db.schema ?? 'public']);
      if (db.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(db.schema)}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      // Read only now, under the lock: whatever another replica applied before we got it is visible.
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => r.version));
      const next = migrations.find((m) => !done.has(m.version));
      if (!next) return null;
      await c.query(next.sql);
      await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [next.version, now]);
      return next.version;
    });
    if (version === null) return applied;
    applied.push(version);
  }
}
