/**
 * The SQLite schema as stable text: every object of sqlite_master (tables, indexes, triggers; not
 * SQLite's own sqlite_* objects nor the automatic indexes of UNIQUE/PRIMARY KEY, which have no SQL),
 * one statement a line with runs of whitespace collapsed, ordered by kind and name. schema.sql beside
 * this file is its output for a fresh, fully migrated database; test/store-schema.test.ts compares
 * the two and `npm run schema:dump` regenerates it.
 */
import type { Db } from './db.js';

const KIND_ORDER = ['table', 'index', 'trigger', 'view'];

export function dumpSqliteSchema(db: Db): string {
  const rows = db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")
    .all() as Array<{ type: string; name: string; sql: string }>;
  rows.sort((a, b) => KIND_ORDER.indexOf(a.type) - KIND_ORDER.indexOf(b.type) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = rows.map((r) => `${r.sql.replace(/\s+/g, ' ').trim()};`);
  return `-- SQLite schema after every migration (generated: npm run schema:dump; checked by test/store-schema.test.ts)\n${lines.join('\n')}\n`;
}
