/**
 * Registers the commands that talk to a running server over HTTP through the typed client (files,
 * jobs, predict, batch, checkpoint, models, status, login), and turns commander's own usage errors
 * into the one-line form of every other failure (docs/cli.md "Errors"): `error usage: <message>` for
 * an unknown command or option, a missing or extra argument; `error invalid_parameter: --limit must
 * be …, got 'abc'` for a flag value its parser refused. `serve`, `keys` and `worker` live in main.ts
 * and worker.ts; the error handling covers them too (oneLineErrors on the whole program).
 */
import { CommanderError, type Command } from 'commander';
import { registerBatch } from './batch.js';
import { registerFiles } from './files.js';
import { registerJobs } from './jobs.js';
import { registerMisc } from './misc.js';
import { registerPredict } from './predict.js';

export function registerRemoteCommands(program: Command): void {
  registerFiles(program);
  registerJobs(program);
  registerPredict(program);
  registerBatch(program);
  registerMisc(program);
}

/** Commander throws instead of exiting and prints nothing itself: commanderErrorLine says it once. */
export function oneLineErrors(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: () => undefined });
  for (const sub of cmd.commands) oneLineErrors(sub);
}

/** Help and --version end with exit code 0 and no line; usage errors are one line and exit code 1. */
export function commanderErrorLine(err: CommanderError): string | null {
  if (['commander.helpDisplayed', 'commander.version', 'commander.help', 'commander.executeSubCommandAsync'].includes(err.code)) return null;
  const msg = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
  if (err.code === 'commander.invalidArgument') {
    const m = /^option '(-{1,2}[\w-]+)(?:, (--[\w-]+))?[^']*' argument '(.*)' is invalid\. (.*)$/.exec(msg);
    if (m) return `error invalid_parameter: ${m[2] ?? m[1]} ${m[4]!.replace(/\.$/, '')}, got '${m[3]}'`;
    const a = /^command-argument value '(.*)' is invalid for argument '(.*)'\. (.*)$/.exec(msg);
    if (a) return `error invalid_parameter: ${a[2]} ${a[3]!.replace(/\.$/, '')}, got '${a[1]}'`;
    return `error invalid_parameter: ${msg}`;
  }
  const hint = err.code === 'commander.unknownCommand' ? ' (ftnode --help lists the commands)' : err.code === 'commander.unknownOption' ? ' (add --help to the command to list its options)' : '';
  return `error usage: ${msg}${hint}`;
}

export { CommanderError };
