/**
 * Registers the commands that talk to a running server over HTTP through the typed client (files,
 * jobs, checkpoint, models, status, login). `serve`, `keys` (and later `worker`) live in main.ts.
 * Usage errors found by commander in these commands (unknown option, missing argument) are printed
 * in the same one-line form as every other failure: `error usage: <message>`.
 */
import type { Command } from 'commander';
import { registerFiles } from './files.js';
import { registerJobs } from './jobs.js';
import { registerMisc } from './misc.js';

function oneLineUsageErrors(cmd: Command): void {
  cmd.configureOutput({ outputError: (str, write) => write(`${str.trim().replace(/^error: /, 'error usage: ').replace(/\s*\n\s*/g, ' ')}\n`) });
  for (const sub of cmd.commands) oneLineUsageErrors(sub);
}

export function registerRemoteCommands(program: Command): void {
  const before = new Set(program.commands);
  registerFiles(program);
  registerJobs(program);
  registerMisc(program);
  for (const cmd of program.commands) if (!before.has(cmd)) oneLineUsageErrors(cmd);
}
