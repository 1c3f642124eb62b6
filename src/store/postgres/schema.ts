/**
 * The PostgreSQL schema as stable text, from the catalogs of the store's schema: every column (in
 * ordinal order, with type, collation, nullability, default, identity), constraint, index, trigger
 * and function, sorted by table and name, with the schema name removed so any schema compares equal.
 * schema.sql beside this file is its output for a fresh, fully migrated schema;
 * test/store-schema.test.ts compares the two and `npm run schema:dump` regenerates it.
 */
import type { PgDb } from './pg-db.js';

export async function dumpPgSchema(db: PgDb): Promise<string> {
  const schema = db.schema ?? 'public';
  const strip = (s: string): string => s.split(`${schema}.`).join('');
  const out: string[] = ['-- PostgreSQL schema after every migration (generated: npm run schema:dump; checked by test/store-schema.test.ts)'];
  const columns = await db.read(
    `SELECT table_name, column_name, data_type, collation_name, is_nullable, column_default, is_identity
     FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    [schema],
  );
  let table = '';
  for (const c of columns) {
    if (c.table_name !== table) out.push(`TABLE ${(table = String(c.table_name))}`);
    const parts = [String(c.column_name), String(c.data_type)];
    if (c.collation_name) parts.push(`COLLATE "${String(c.collation_name)}"`);
    if (c.is_nullable === 'NO') parts.push('NOT NULL');
    if (c.column_default !== null) parts.push(`DEFAULT ${strip(String(c.column_default))}`);
    if (c.is_identity === 'YES') parts.push('IDENTITY');
    out.push(`  COLUMN ${parts.join(' ')}`);
  }
  const constraints = await db.read(
    `SELECT c.relname AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS def FROM pg_constraint k
     JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 ORDER BY c.relname, k.conname`,
    [schema],
  );
  for (const k of constraints) out.push(`CONSTRAINT ${String(k.tbl)}.${String(k.name)} ${strip(String(k.def))}`);
  const indexes = await db.read('SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname', [schema]);
  for (const i of indexes) out.push(`INDEX ${String(i.tablename)}.${String(i.indexname)} ${strip(String(i.indexdef))}`);
  const triggers = await db.read(
    `SELECT c.relname AS tbl, t.tgname AS name, pg_get_triggerdef(t.oid) AS def FROM pg_trigger t
     JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY c.relname, t.tgname`,
    [schema],
  );
  for (const t of triggers) out.push(`TRIGGER ${String(t.tbl)}.${String(t.name)} ${strip(String(t.def))}`);
  const functions = await db.read(
    `SELECT p.proname AS name, pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = $1 ORDER BY p.proname`,
    [schema],
  );
  for (const f of functions) out.push(`FUNCTION ${String(f.name)} ${strip(String(f.def)).replace(/\s+/g, ' ').trim()}`);
  return `${out.join('\n')}\n`;
}
