/**
 * The numbered schema migrations of a dialect, read from its `migrations/NNNN_name.sql` files.
 * Invariants: versions are the files' numbers (the same numbers the earlier TypeScript arrays used, so a
 * database they created records the same versions in schema_migrations and is only migrated forward);
 * numbers are unique and sorted; a shipped file is never edited, the next number is added instead.
 * tsc does not copy .sql files, so from dist/ the files are read in the source tree
 * (dist/src/store → ../../../src/store); a folder beside the compiled module, if present, wins.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The folder holding `dialect`'s .sql migrations. */
export function migrationsDir(dialect: 'sqlite' | 'postgres'): string {
  const candidates = [new URL(`./${dialect}/migrations/`, import.meta.url), new URL(`../../../src/store/${dialect}/migrations/`, import.meta.url)];
  for (const u of candidates) {
    const dir = fileURLToPath(u);
    if (existsSync(dir)) return dir;
  }
  throw new Error(`store: no migrations folder for ${dialect} (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
}

export function loadMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const dir = migrationsDir(dialect);
  const out: Migration[] = [];
  for (const f of readdirSync(dir).sort()) {
    const m = FILE_RE.exec(f);
    if (!m) continue;
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`store: two ${dialect} migrations numbered ${version}`);
    out.push({ version, name: m[2]!, sql: readFileSync(`${dir}${f}`, 'utf8') });
  }
  return out;
}
