/**
 * Registers the commands that talk to a running server over HTTP through the typed client (files,
 * jobs, checkpoint, models, status, login). `serve`, `keys` (and later `worker`) live in main.ts.
 */
import type { Command } from 'commander';
import { registerFiles } from './files.js';
import { registerJobs } from './jobs.js';
import { registerMisc } from './misc.js';

export function registerRemoteCommands(program: Command): void {
  registerFiles(program);
  registerJobs(program);
  registerMisc(program);
}
