/**
 * The data directory is private to the service's user: created 0700, and every file the service or
 * its trainers create (database, WAL, uploaded files, checkpoints, inference configs, keys) 0600.
 * The process umask is set to 077 before anything is created, so this holds for every writer,
 * including the trainer child processes that inherit it; a directory or database left wider by an
 * earlier version is narrowed at start. Only the top entries are narrowed: with the home at 0700 no
 * other user can reach anything below it.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import type { Config } from '../config/config.js';

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

export function secureDataDir(config: Readonly<Config>): void {
  process.umask(0o077);
  mkdirSync(config.home, { recursive: true, mode: DATA_DIR_MODE });
  chmodSync(config.home, DATA_DIR_MODE);
  if (existsSync(config.artifactsDir)) chmodSync(config.artifactsDir, DATA_DIR_MODE);
  for (const suffix of ['', '-wal', '-shm']) {
    const file = config.databaseFile + suffix;
    if (existsSync(file)) chmodSync(file, DATA_FILE_MODE);
  }
}
