/**
 * The SQLite schema: numbered append-only migrations in ./migrations/NNNN_name.sql (loaded by
 * ../migration-files.ts). Times are INTEGER milliseconds from the injected clock; JSON columns are
 * TEXT. Never edit a shipped migration: add the next number (and regenerate schema.sql).
 */
import { loadMigrations, type Migration } from '../migration-files.js';

export const SQLITE_MIGRATIONS: readonly Migration[] = loadMigrations('sqlite');
